/// Why a checkpoint was written. `shutdown` marks a clean end of a writer session; `rotate` closes a file;
/// `recovery` follows the recovery event a writer chains in when it starts after a crash, signing what the crashed
/// session left unsigned.
enum CheckpointReason: String {
    case count, interval, rotate, shutdown, recovery
}
