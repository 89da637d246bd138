/// The field positions of each `_Py_DebugOffsets` struct version: its
/// sections and fields in declaration order. A new CPython minor version
/// whose struct changed is one more entry here.
extension DebugOffsets {
    /// 3.13 (`Include/internal/pycore_runtime.h`); checked field by field
    /// against the installed 3.13 headers in PythonLayoutTableTests.
    static let v313 = StructVersion(name: "3.13", major: 3, minor: 13, sections: [
        ("runtime_state", ["size", "finalizing", "interpreters_head"]),
        ("interpreter_state", ["size", "id", "next", "threads_head", "gc", "imports_modules", "sysdict", "builtins",
                               "ceval_gil", "gil_runtime_state", "gil_runtime_state_enabled",
                               "gil_runtime_state_locked", "gil_runtime_state_holder"]),
        ("thread_state", ["size", "prev", "next", "interp", "current_frame", "thread_id", "native_thread_id",
                          "datastack_chunk", "status"]),
        ("interpreter_frame", ["size", "previous", "executable", "instr_ptr", "localsplus", "owner"]),
        ("code_object", ["size", "filename", "name", "qualname", "linetable", "firstlineno", "argcount",
                         "localsplusnames", "localspluskinds", "co_code_adaptive"]),
        ("pyobject", ["size", "ob_type"]),
        ("type_object", ["size", "tp_name", "tp_repr", "tp_flags"]),
        ("tuple_object", ["size", "ob_item", "ob_size"]),
        ("list_object", ["size", "ob_item", "ob_size"]),
        ("dict_object", ["size", "ma_keys", "ma_values"]),
        ("float_object", ["size", "ob_fval"]),
        ("long_object", ["size", "lv_tag", "ob_digit"]),
        ("bytes_object", ["size", "ob_size", "ob_sval"]),
        ("unicode_object", ["size", "state", "length", "asciiobject_size"]),
        ("gc", ["size", "collecting"]),
    ])

    /// 3.14 (`Include/internal/pycore_debug_offsets.h` of the 3.14 branch),
    /// read from CPython's sources: no 3.14 interpreter or headers were at
    /// hand to check it against.
    static let v314 = StructVersion(name: "3.14", major: 3, minor: 14, sections: [
        ("runtime_state", ["size", "finalizing", "interpreters_head"]),
        ("interpreter_state", ["size", "id", "next", "threads_head", "threads_main", "gc", "imports_modules",
                               "sysdict", "builtins", "ceval_gil", "gil_runtime_state", "gil_runtime_state_enabled",
                               "gil_runtime_state_locked", "gil_runtime_state_holder", "code_object_generation",
                               "tlbc_generation"]),
        ("thread_state", ["size", "prev", "next", "interp", "current_frame", "thread_id", "native_thread_id",
                          "datastack_chunk", "status"]),
        ("interpreter_frame", ["size", "previous", "executable", "instr_ptr", "localsplus", "owner", "stackpointer",
                               "tlbc_index"]),
        ("code_object", ["size", "filename", "name", "qualname", "linetable", "firstlineno", "argcount",
                         "localsplusnames", "localspluskinds", "co_code_adaptive", "co_tlbc"]),
        ("pyobject", ["size", "ob_type"]),
        ("type_object", ["size", "tp_name", "tp_repr", "tp_flags"]),
        ("tuple_object", ["size", "ob_item", "ob_size"]),
        ("list_object", ["size", "ob_item", "ob_size"]),
        ("set_object", ["size", "used", "table", "mask"]),
        ("dict_object", ["size", "ma_keys", "ma_values"]),
        ("float_object", ["size", "ob_fval"]),
        ("long_object", ["size", "lv_tag", "ob_digit"]),
        ("bytes_object", ["size", "ob_size", "ob_sval"]),
        ("unicode_object", ["size", "state", "length", "asciiobject_size"]),
        ("gc", ["size", "collecting"]),
        ("gen_object", ["size", "gi_name", "gi_iframe", "gi_frame_state"]),
        ("llist_node", ["next", "prev"]),
        ("debugger_support", ["eval_breaker", "remote_debugger_support", "remote_debugging_enabled",
                              "debugger_pending_call", "debugger_script_path", "debugger_script_path_size"]),
    ])

    /// 3.15 (its release candidates and releases), read from CPython's sources; its total, 888
    /// bytes, is the size CPython's own remote unwinder asserts
    /// (`Modules/_remote_debugging/debug_offsets_validation.h`). No 3.15
    /// interpreter or headers were at hand to check it against.
    static let v315 = StructVersion(name: "3.15", major: 3, minor: 15, sections: [
        ("runtime_state", ["size", "finalizing", "interpreters_head"]),
        ("interpreter_state", ["size", "id", "next", "threads_head", "threads_main", "gc", "imports_modules",
                               "sysdict", "builtins", "ceval_gil", "gil_runtime_state", "gil_runtime_state_enabled",
                               "gil_runtime_state_locked", "gil_runtime_state_holder", "code_object_generation",
                               "tlbc_generation"]),
        ("thread_state", ["size", "prev", "next", "interp", "current_frame", "base_frame", "last_profiled_frame",
                          "last_profiled_frame_seq", "thread_id", "native_thread_id", "datastack_chunk", "status",
                          "holds_gil", "gil_requested", "current_exception", "exc_state"]),
        ("err_stackitem", ["exc_value"]),
        ("interpreter_frame", ["size", "previous", "executable", "instr_ptr", "localsplus", "owner", "stackpointer",
                               "tlbc_index"]),
        ("code_object", ["size", "filename", "name", "qualname", "linetable", "firstlineno", "argcount",
                         "localsplusnames", "localspluskinds", "co_code_adaptive", "co_tlbc"]),
        ("pyobject", ["size", "ob_type"]),
        ("type_object", ["size", "tp_name", "tp_repr", "tp_flags", "tp_basicsize", "tp_dictoffset"]),
        ("heap_type_object", ["size", "ht_cached_keys"]),
        ("tuple_object", ["size", "ob_item", "ob_size"]),
        ("list_object", ["size", "ob_item", "ob_size"]),
        ("set_object", ["size", "used", "table", "mask"]),
        ("dict_object", ["size", "ma_keys", "ma_values"]),
        ("float_object", ["size", "ob_fval"]),
        ("long_object", ["size", "lv_tag", "ob_digit"]),
        ("bytes_object", ["size", "ob_size", "ob_sval"]),
        ("unicode_object", ["size", "state", "length", "asciiobject_size", "compactunicodeobject_size"]),
        ("gc", ["size", "collecting", "frame", "generation_stats_size", "generation_stats"]),
        ("gen_object", ["size", "gi_name", "gi_iframe", "gi_frame_state"]),
        ("llist_node", ["next", "prev"]),
        ("debugger_support", ["eval_breaker", "remote_debugger_support", "remote_debugging_enabled",
                              "debugger_pending_call", "debugger_script_path", "debugger_script_path_size"]),
    ])
}
