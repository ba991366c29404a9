namespace MaaS.Core.Repository;

/// <summary>Recognises a full disk among I/O failures (ENOSPC on Linux, ERROR_DISK_FULL / ERROR_HANDLE_DISK_FULL on Windows).</summary>
internal static class StorageErrors
{
    private const int Enospc = 28;
    private const int ErrorHandleDiskFull = 0x27;
    private const int ErrorDiskFull = 0x70;

    public static bool IsDiskFull(IOException exception) =>
        (exception.HResult & 0xFFFF) is Enospc or ErrorHandleDiskFull or ErrorDiskFull
        || exception.Message.Contains("No space left on device", StringComparison.OrdinalIgnoreCase);
}
