/* Prints, as one JSON object, the layout facts PythonLayoutTable claims for
 * the CPython whose headers this is compiled against, measured with
 * offsetof() and sizeof(). A field the version lacks is left out.
 *
 *   gcc -I $PREFIX/include/pythonX.Y layout_offsets.c -o layout_offsets
 *
 * Internal headers (_PyRuntimeState, PyInterpreterState from 3.8,
 * _PyInterpreterFrame) need Py_BUILD_CORE, which is set from 3.7 on. The
 * version is read from patchlevel.h first so 2.7 and 3.6 build without it.
 */
#include <patchlevel.h>

#if PY_VERSION_HEX >= 0x03070000
#define Py_BUILD_CORE 1
#endif

#include <Python.h>
#include <frameobject.h>
#include <stddef.h>
#include <stdio.h>

#if PY_VERSION_HEX >= 0x03090000
#include "internal/pycore_interp.h"
#include "internal/pycore_runtime.h"
#elif PY_VERSION_HEX >= 0x03080000
#include "internal/pycore_pystate.h"
#elif PY_VERSION_HEX >= 0x03070000
#include "internal/pystate.h"
#endif

#if PY_VERSION_HEX >= 0x030B0000
#include "internal/pycore_frame.h"
#endif

static int printed;

static void field(const char *name, size_t value)
{
    printf("%s\n  \"%s\": %zu", printed++ ? "," : "{", name, value);
}

#define OFFSET(name, type, member) field(name, offsetof(type, member))
#define SIZE(name, type, member) field(name, sizeof(((type *)0)->member))

int main(void)
{
    field("versionHex", PY_VERSION_HEX);

    /* Where the interpreter list starts. */
#if PY_VERSION_HEX >= 0x03070000
    OFFSET("runtimeInterpretersHead", _PyRuntimeState, interpreters.head);
#endif
#if PY_VERSION_HEX >= 0x030B0000
    OFFSET("interpreterThreadsHead", PyInterpreterState, threads.head);
#else
    OFFSET("interpreterThreadsHead", PyInterpreterState, tstate_head);
#endif

    /* Thread state. */
    OFFSET("threadNext", PyThreadState, next);
    OFFSET("threadID", PyThreadState, thread_id);
#if PY_VERSION_HEX >= 0x030D0000
    OFFSET("threadFrame", PyThreadState, current_frame);
#elif PY_VERSION_HEX >= 0x030B0000
    OFFSET("threadFrame", PyThreadState, cframe);
    OFFSET("cframeCurrentFrame", _PyCFrame, current_frame);
#else
    OFFSET("threadFrame", PyThreadState, frame);
#endif

    /* Frames. */
#if PY_VERSION_HEX >= 0x030D0000
    OFFSET("framePrevious", _PyInterpreterFrame, previous);
    OFFSET("frameCode", _PyInterpreterFrame, f_executable);
    OFFSET("frameInstruction", _PyInterpreterFrame, instr_ptr);
    SIZE("frameInstructionSize", _PyInterpreterFrame, instr_ptr);
    OFFSET("frameOwner", _PyInterpreterFrame, owner);
#elif PY_VERSION_HEX >= 0x030B0000
    OFFSET("framePrevious", _PyInterpreterFrame, previous);
    OFFSET("frameCode", _PyInterpreterFrame, f_code);
    OFFSET("frameInstruction", _PyInterpreterFrame, prev_instr);
    SIZE("frameInstructionSize", _PyInterpreterFrame, prev_instr);
#if PY_VERSION_HEX >= 0x030C0000
    OFFSET("frameOwner", _PyInterpreterFrame, owner);
#else
    OFFSET("frameIsEntry", _PyInterpreterFrame, is_entry);
#endif
#else
    OFFSET("framePrevious", PyFrameObject, f_back);
    OFFSET("frameCode", PyFrameObject, f_code);
    OFFSET("frameInstruction", PyFrameObject, f_lasti);
    SIZE("frameInstructionSize", PyFrameObject, f_lasti);
#endif

    /* Code objects. */
    OFFSET("codeFilename", PyCodeObject, co_filename);
    OFFSET("codeName", PyCodeObject, co_name);
#if PY_VERSION_HEX >= 0x030B0000
    OFFSET("codeQualname", PyCodeObject, co_qualname);
#endif
    OFFSET("codeFirstLineNumber", PyCodeObject, co_firstlineno);
#if PY_VERSION_HEX >= 0x030A0000
    OFFSET("codeLineTable", PyCodeObject, co_linetable);
#else
    OFFSET("codeLineTable", PyCodeObject, co_lnotab);
#endif
#if PY_VERSION_HEX >= 0x030B0000
    OFFSET("codeAdaptive", PyCodeObject, co_code_adaptive);
#endif
#if PY_VERSION_HEX >= 0x030C0000
    OFFSET("codeVersion", PyCodeObject, co_version);
#endif

    /* Strings and the bytes holding a line table. */
#if PY_MAJOR_VERSION == 2
    OFFSET("stringSize", PyStringObject, ob_size);
    OFFSET("stringData", PyStringObject, ob_sval);
    OFFSET("lineTableData", PyStringObject, ob_sval);
#else
    OFFSET("unicodeLength", PyASCIIObject, length);
    OFFSET("unicodeState", PyASCIIObject, state);
    field("asciiData", sizeof(PyASCIIObject));
    field("compactData", sizeof(PyCompactUnicodeObject));
    OFFSET("bytesSize", PyBytesObject, ob_base.ob_size);
    OFFSET("lineTableData", PyBytesObject, ob_sval);
#endif

    /* The GIL (3.7+): in _PyRuntime up to 3.11, then per interpreter. */
#if PY_VERSION_HEX >= 0x030C0000
    OFFSET("interpreterGIL", PyInterpreterState, ceval.gil);
#elif PY_VERSION_HEX >= 0x03070000
    OFFSET("runtimeGIL", _PyRuntimeState, ceval.gil);
#endif
#if PY_VERSION_HEX >= 0x03070000
    OFFSET("gilLocked", struct _gil_runtime_state, locked);
    OFFSET("gilLastHolder", struct _gil_runtime_state, last_holder);
    field("gilSize", sizeof(struct _gil_runtime_state));
#endif

    /* 3.13+: the interpreter describes itself in _PyRuntime.debug_offsets. */
#if PY_VERSION_HEX >= 0x030D0000
    OFFSET("runtimeDebugOffsets", _PyRuntimeState, debug_offsets);
    field("debugOffsetsSize", sizeof(_Py_DebugOffsets));
    OFFSET("debugOffsetsVersion", _Py_DebugOffsets, version);
    OFFSET("debugOffsetsInterpretersHead", _Py_DebugOffsets, runtime_state.interpreters_head);
    OFFSET("debugOffsetsThreadsHead", _Py_DebugOffsets, interpreter_state.threads_head);
    OFFSET("debugOffsetsCurrentFrame", _Py_DebugOffsets, thread_state.current_frame);
    OFFSET("debugOffsetsCodeAdaptive", _Py_DebugOffsets, code_object.co_code_adaptive);
#endif
#if PY_VERSION_HEX >= 0x030D0000 && PY_VERSION_HEX < 0x030E0000
    /* Every field of 3.13's struct, where DebugOffsets.v313 places it. */
#define DEBUG_FIELD(section, member) \
    field("debugOffsets." #section "." #member, offsetof(_Py_DebugOffsets, section.member))
    DEBUG_FIELD(runtime_state, size); DEBUG_FIELD(runtime_state, finalizing);
    DEBUG_FIELD(runtime_state, interpreters_head);
    DEBUG_FIELD(interpreter_state, size); DEBUG_FIELD(interpreter_state, id); DEBUG_FIELD(interpreter_state, next);
    DEBUG_FIELD(interpreter_state, threads_head); DEBUG_FIELD(interpreter_state, gc);
    DEBUG_FIELD(interpreter_state, imports_modules); DEBUG_FIELD(interpreter_state, sysdict);
    DEBUG_FIELD(interpreter_state, builtins); DEBUG_FIELD(interpreter_state, ceval_gil);
    DEBUG_FIELD(interpreter_state, gil_runtime_state); DEBUG_FIELD(interpreter_state, gil_runtime_state_enabled);
    DEBUG_FIELD(interpreter_state, gil_runtime_state_locked); DEBUG_FIELD(interpreter_state, gil_runtime_state_holder);
    DEBUG_FIELD(thread_state, size); DEBUG_FIELD(thread_state, prev); DEBUG_FIELD(thread_state, next);
    DEBUG_FIELD(thread_state, interp); DEBUG_FIELD(thread_state, current_frame); DEBUG_FIELD(thread_state, thread_id);
    DEBUG_FIELD(thread_state, native_thread_id); DEBUG_FIELD(thread_state, datastack_chunk);
    DEBUG_FIELD(thread_state, status);
    DEBUG_FIELD(interpreter_frame, size); DEBUG_FIELD(interpreter_frame, previous);
    DEBUG_FIELD(interpreter_frame, executable); DEBUG_FIELD(interpreter_frame, instr_ptr);
    DEBUG_FIELD(interpreter_frame, localsplus); DEBUG_FIELD(interpreter_frame, owner);
    DEBUG_FIELD(code_object, size); DEBUG_FIELD(code_object, filename); DEBUG_FIELD(code_object, name);
    DEBUG_FIELD(code_object, qualname); DEBUG_FIELD(code_object, linetable); DEBUG_FIELD(code_object, firstlineno);
    DEBUG_FIELD(code_object, argcount); DEBUG_FIELD(code_object, localsplusnames);
    DEBUG_FIELD(code_object, localspluskinds); DEBUG_FIELD(code_object, co_code_adaptive);
    DEBUG_FIELD(pyobject, size); DEBUG_FIELD(pyobject, ob_type);
    DEBUG_FIELD(type_object, size); DEBUG_FIELD(type_object, tp_name); DEBUG_FIELD(type_object, tp_repr);
    DEBUG_FIELD(type_object, tp_flags);
    DEBUG_FIELD(tuple_object, size); DEBUG_FIELD(tuple_object, ob_item); DEBUG_FIELD(tuple_object, ob_size);
    DEBUG_FIELD(list_object, size); DEBUG_FIELD(list_object, ob_item); DEBUG_FIELD(list_object, ob_size);
    DEBUG_FIELD(dict_object, size); DEBUG_FIELD(dict_object, ma_keys); DEBUG_FIELD(dict_object, ma_values);
    DEBUG_FIELD(float_object, size); DEBUG_FIELD(float_object, ob_fval);
    DEBUG_FIELD(long_object, size); DEBUG_FIELD(long_object, lv_tag); DEBUG_FIELD(long_object, ob_digit);
    DEBUG_FIELD(bytes_object, size); DEBUG_FIELD(bytes_object, ob_size); DEBUG_FIELD(bytes_object, ob_sval);
    DEBUG_FIELD(unicode_object, size); DEBUG_FIELD(unicode_object, state); DEBUG_FIELD(unicode_object, length);
    DEBUG_FIELD(unicode_object, asciiobject_size);
    DEBUG_FIELD(gc, size); DEBUG_FIELD(gc, collecting);
    /* The sizes the 3.13 interpreter reports in its own table. */
    field("sizeofRuntimeState", sizeof(_PyRuntimeState));
    field("sizeofInterpreterState", sizeof(PyInterpreterState));
    field("sizeofThreadState", sizeof(PyThreadState));
    field("sizeofInterpreterFrame", sizeof(_PyInterpreterFrame));
    field("sizeofCodeObject", sizeof(PyCodeObject));
    field("sizeofUnicodeObject", sizeof(PyUnicodeObject));
    field("sizeofBytesObject", sizeof(PyBytesObject));
#endif
    printf("\n}\n");
    return 0;
}
