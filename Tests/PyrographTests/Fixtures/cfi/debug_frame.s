# Functions described only in .debug_frame (DWARF's format: absolute
# addresses, CIE pointers as section offsets), for CFITests. The linker
# compresses .debug_frame, so reading it goes through SHF_COMPRESSED.

	.cfi_sections .debug_frame

	.text
	.p2align 4, 0xcc
	.globl	debug_only
	.type	debug_only, @function
debug_only:
	.cfi_startproc
	push	%rbp
	.cfi_def_cfa_offset 16
	.cfi_offset rbp, -16
	mov	%rsp, %rbp
	.cfi_def_cfa_register rbp
	nop
	pop	%rbp
	.cfi_def_cfa rsp, 8
	ret
	.cfi_endproc
	.size	debug_only, .-debug_only

	.globl	debug_only_leaf
	.type	debug_only_leaf, @function
debug_only_leaf:
	.cfi_startproc
	sub	$24, %rsp
	.cfi_def_cfa_offset 32
	.skip	400, 0x90
	add	$24, %rsp
	.cfi_def_cfa_offset 8
	ret
	.cfi_endproc
	.size	debug_only_leaf, .-debug_only_leaf
