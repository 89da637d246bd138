# CFI the compilers rarely emit, for CFITests: each function exercises CFA
# instructions or CIE augmentations, and readelf's interpretation of the
# linked file is the reference. Gaps of int3 between some functions have no
# CFI. Linked with cfi_debug_frame.s into a static, non-PIE executable.

	.text
	.globl	_start
	.type	_start, @function
_start:
	.cfi_startproc
	.cfi_undefined rip		# outermost frame: PYRO_CFA_END
	xor	%ebp, %ebp
	call	remember_restore
	call	frame_pointer
	hlt
	.cfi_endproc
	.size	_start, .-_start

	.skip	13, 0xcc		# a gap

	.globl	remember_restore
	.type	remember_restore, @function
remember_restore:
	.cfi_startproc
	push	%rbx
	.cfi_adjust_cfa_offset 8
	.cfi_offset rbx, -16
	test	%rdi, %rdi
	je	1f
	.cfi_remember_state
	pop	%rbx
	.cfi_adjust_cfa_offset -8
	.cfi_restore rbx
	ret
1:	.cfi_restore_state
	push	%rbp
	.cfi_adjust_cfa_offset 8
	.cfi_offset rbp, -24
	.cfi_remember_state
	.cfi_escape 0x2e, 0x10		# DW_CFA_GNU_args_size 16
	pop	%rbp
	.cfi_adjust_cfa_offset -8
	.cfi_restore rbp
	nop
	.cfi_restore_state
	pop	%rbp
	.cfi_adjust_cfa_offset -8
	.cfi_same_value rbp
	pop	%rbx
	.cfi_adjust_cfa_offset -8
	ret
	.cfi_endproc
	.size	remember_restore, .-remember_restore

	.globl	frame_pointer
	.type	frame_pointer, @function
frame_pointer:				# no gap before: FDEs meet exactly
	.cfi_startproc
	push	%rbp
	.cfi_def_cfa_offset 16
	.cfi_offset rbp, -16
	mov	%rsp, %rbp
	.cfi_def_cfa_register rbp
	.skip	300, 0x90		# DW_CFA_advance_loc2
	.skip	70000, 0x90		# DW_CFA_advance_loc4
	leave
	.cfi_def_cfa rsp, 8
	ret
	.cfi_endproc
	.size	frame_pointer, .-frame_pointer

	.p2align 6, 0xcc

	.globl	realigned
	.type	realigned, @function
realigned:				# GCC's stack realignment in main
	.cfi_startproc
	lea	8(%rsp), %r10
	.cfi_def_cfa r10, 0
	and	$-32, %rsp
	pushq	-8(%r10)
	push	%rbp
	.cfi_escape 0x10, 0x06, 0x02, 0x76, 0x00	# DW_CFA_expression rbp: DW_OP_breg6 0
	mov	%rsp, %rbp
	push	%r10
	.cfi_escape 0x0f, 0x03, 0x76, 0x78, 0x06	# DW_CFA_def_cfa_expression: DW_OP_breg6 -8; DW_OP_deref
	nop
	pop	%r10
	.cfi_def_cfa r10, 0
	pop	%rbp
	.cfi_restore rbp
	lea	-8(%r10), %rsp
	.cfi_def_cfa rsp, 8
	ret
	.cfi_endproc
	.size	realigned, .-realigned

	.skip	3, 0xcc
	# A signal trampoline as glibc's __restore_rt: CIE "zRS", no initial
	# instructions, and the FDE starts one byte before the symbol, because
	# unwinders look up a signal frame's pc as is but other pcs minus one.
	.cfi_startproc simple
	.cfi_signal_frame
	.cfi_escape 0x0f, 0x04, 0x77, 0xa0, 0x01, 0x06	# DW_CFA_def_cfa_expression: DW_OP_breg7 160; DW_OP_deref
	.cfi_escape 0x10, 0x06, 0x03, 0x77, 0xf8, 0x00	# DW_CFA_expression rbp: DW_OP_breg7 120
	.cfi_escape 0x10, 0x10, 0x03, 0x77, 0xa8, 0x01	# DW_CFA_expression rip: DW_OP_breg7 168
	nop
	.globl	signal_trampoline
	.type	signal_trampoline, @function
signal_trampoline:
	mov	$15, %eax
	syscall
	.cfi_endproc
	.size	signal_trampoline, .-signal_trampoline

	.p2align 4, 0xcc
	.globl	fake_plt
	.type	fake_plt, @function
fake_plt:				# the lazy PLT's CFA expressions, lit11 and lit10
	.cfi_startproc
	.cfi_def_cfa_offset 16
	pushq	0(%rip)
	.cfi_def_cfa_offset 24
	jmp	*0(%rip)
	.p2align 4, 0x90
	.cfi_escape 0x0f, 0x0b, 0x77, 0x08, 0x80, 0x00, 0x3f, 0x1a, 0x3b, 0x2a, 0x33, 0x24, 0x22
	.skip	32, 0x90
	.cfi_escape 0x0f, 0x0b, 0x77, 0x08, 0x80, 0x00, 0x3f, 0x1a, 0x3a, 0x2a, 0x33, 0x24, 0x22
	.skip	16, 0x90
	.cfi_escape 0x0f, 0x0b, 0x77, 0x08, 0x80, 0x00, 0x3f, 0x1a, 0x39, 0x2a, 0x33, 0x24, 0x22	# lit9: unsupported
	.skip	16, 0x90
	.cfi_endproc
	.size	fake_plt, .-fake_plt

	.globl	odd_rules
	.type	odd_rules, @function
odd_rules:				# rules the BPF rows cannot express, and rare opcodes
	.cfi_startproc
	.cfi_escape 0x11, 0x06, 0x7e	# DW_CFA_offset_extended_sf rbp, -2 * -8 = cfa+16
	nop
	.cfi_escape 0x2f, 0x06, 0x03	# DW_CFA_GNU_negative_offset_extended rbp, -(3 * -8) = cfa+24
	nop
	.cfi_escape 0x05, 0x06, 0x04	# DW_CFA_offset_extended rbp, 4 * -8 = cfa-32
	nop
	.cfi_val_offset rbp, -16
	nop
	.cfi_register rbp, r9
	nop
	.cfi_undefined rbp
	nop
	.cfi_restore rbp
	nop
	.cfi_escape 0x13, 0x7d		# DW_CFA_def_cfa_offset_sf -3 * -8 = 24
	nop
	.cfi_escape 0x12, 0x06, 0x7c	# DW_CFA_def_cfa_sf rbp, -4 * -8 = 32
	nop
	.cfi_def_cfa rsp, 40000		# a frame over 32 KiB
	nop
	.cfi_def_cfa rdi, 8		# another register: unsupported
	nop
	.cfi_def_cfa rsp, 8
	.cfi_register rip, rdx		# return address in a register: unsupported
	nop
	.cfi_restore rip
	.cfi_escape 0x16, 0x06, 0x02, 0x77, 0x10	# DW_CFA_val_expression rbp: DW_OP_breg7 16
	nop
	.cfi_offset rbp, -32768		# the smallest Int16
	nop
	.cfi_offset rbp, -32776		# beyond
	nop
	.cfi_def_cfa rsp, 0x80000000	# too far for an Int32: unsupported
	nop
	ret
	.cfi_endproc
	.size	odd_rules, .-odd_rules

	# Personality and LSDA pointers in the encodings GCC and hand-written
	# code use: indirect pcrel sdata4 (GCC's PIC), udata4, absptr, sdata8.
	.globl	with_indirect_personality
	.type	with_indirect_personality, @function
with_indirect_personality:
	.cfi_startproc
	.cfi_personality 0x9b, DW.ref.fixture_personality
	.cfi_lsda 0x1b, fixture_lsda_1
	push	%rbp
	.cfi_def_cfa_offset 16
	.cfi_offset rbp, -16
	pop	%rbp
	.cfi_def_cfa_offset 8
	ret
	.cfi_endproc
	.size	with_indirect_personality, .-with_indirect_personality

	.globl	with_udata4_personality
	.type	with_udata4_personality, @function
with_udata4_personality:
	.cfi_startproc
	.cfi_personality 0x03, fixture_personality
	.cfi_lsda 0x03, fixture_lsda_2
	push	%rbp
	.cfi_def_cfa_offset 16
	.cfi_offset rbp, -16
	pop	%rbp
	.cfi_def_cfa_offset 8
	ret
	.cfi_endproc
	.size	with_udata4_personality, .-with_udata4_personality

	.skip	5, 0xcc

	.globl	with_absptr_personality
	.type	with_absptr_personality, @function
with_absptr_personality:
	.cfi_startproc
	.cfi_personality 0x00, fixture_personality
	.cfi_lsda 0x0c, fixture_lsda_3
	push	%rbp
	.cfi_def_cfa_offset 16
	.cfi_offset rbp, -16
	pop	%rbp
	.cfi_def_cfa_offset 8
	ret
	.cfi_endproc
	.size	with_absptr_personality, .-with_absptr_personality

	.globl	fixture_personality
	.type	fixture_personality, @function
fixture_personality:			# no CFI at all
	xor	%eax, %eax
	ret
	.size	fixture_personality, .-fixture_personality

	.section .rodata
	.globl	fixture_lsda_1, fixture_lsda_2, fixture_lsda_3
fixture_lsda_1:	.byte 0xff, 0xff, 0x03, 0x00
fixture_lsda_2:	.byte 0xff, 0xff, 0x03, 0x00
fixture_lsda_3:	.byte 0xff, 0xff, 0x03, 0x00

	.data
	.p2align 3
	.globl	DW.ref.fixture_personality
DW.ref.fixture_personality:
	.quad	fixture_personality
