/// What makes two samples the same stack before symbolization.
struct RawStackKey: Hashable {
    var pid: Int32
    var tid: Int32
    var processComm: String
    var threadComm: String
    var kernelStack: [UInt64]
    var userStack: [UInt64]
    var userStackFailed: Bool
    var pythonStatus: UInt32
    var pythonFrames: [PythonFrameRecord]

    init(_ sample: RawSample) {
        pid = sample.pid
        tid = sample.tid
        processComm = sample.processComm
        threadComm = sample.threadComm
        kernelStack = sample.kernelStack
        userStack = sample.userStack
        userStackFailed = sample.userStackError != 0
        pythonStatus = sample.pythonStatus.rawValue
        pythonFrames = sample.pythonFrames
    }
}
