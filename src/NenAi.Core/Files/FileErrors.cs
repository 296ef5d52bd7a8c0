using System;
using System.IO;

namespace NenAi.Core.Files
{
    /// <summary>
    /// What a failed file operation means, told from the exception the runtime threw. On Windows an IOException carries
    /// 0x8007xxxx (the Win32 error in the low word); on Unix .NET puts the errno itself in HResult.
    /// </summary>
    public static class FileErrors
    {
        private const int Win32Facility = unchecked((int)0x80070000);
        private const int SharingViolation = 32;        // ERROR_SHARING_VIOLATION
        private const int LockViolation = 33;           // ERROR_LOCK_VIOLATION
        private const int UnableToRemoveReplaced = 1175; // ERROR_UNABLE_TO_REMOVE_REPLACED: File.Replace met an open target
        private const int UnableToMoveReplacement = 1176;  // ERROR_UNABLE_TO_MOVE_REPLACEMENT: the new file is held (a scanner)
        private const int UnableToMoveReplacement2 = 1177; // ERROR_UNABLE_TO_MOVE_REPLACEMENT_2: likewise, the old one renamed aside
        private const int LinuxWouldBlock = 11;         // EWOULDBLOCK: flock() of a file another process holds
        private const int MacWouldBlock = 35;
        private const int WriteProtect = 19;            // ERROR_WRITE_PROTECT: a write-protected disk or a read-only volume
        private const int HandleDiskFull = 39;          // ERROR_HANDLE_DISK_FULL
        private const int DiskFull = 112;               // ERROR_DISK_FULL
        private const int UnixReadOnlyFileSystem = 30;  // EROFS (Linux and macOS alike)
        private const int UnixNoSpace = 28;             // ENOSPC (Linux and macOS alike)
        private const int LinuxQuotaExceeded = 122;     // EDQUOT

        /// <summary>Another process has the file open in a way that excludes us (FileShare.None, a held flock).</summary>
        public static bool IsSharingViolation(Exception ex) => ex is IOException && IsSharingViolation(ex.HResult);

        public static bool IsSharingViolation(int hresult) =>
            hresult == Win32(SharingViolation) || hresult == Win32(LockViolation) || hresult == LinuxWouldBlock || hresult == MacWouldBlock;

        /// <summary>
        /// Held only for a moment by someone else, as an antivirus scanner or the search indexer holds a file it has just
        /// seen: a sharing violation, a File.Replace that could not remove the file it replaces (1175) or move the new one
        /// into its place (1176, 1177: the scanner holds the file just written), or access denied (what Windows answers
        /// for a file whose deletion is pending until the last handle to it closes). After 1176 or 1177 without a backup
        /// name the old file is gone from its name and the new one keeps its own, so the next attempt of
        /// <see cref="FileRetry.MoveIntoPlace"/> is a plain move.
        /// </summary>
        public static bool IsBriefLock(Exception ex) =>
            IsSharingViolation(ex) || ex is UnauthorizedAccessException || (ex is IOException && IsReplaceHeldUp(ex.HResult));

        /// <summary>The file system is mounted read-only, or the disk is write-protected: nothing can be written there.</summary>
        public static bool IsReadOnly(Exception ex) =>
            ex is IOException && (ex.HResult == Win32(WriteProtect) || ex.HResult == UnixReadOnlyFileSystem);

        /// <summary>No space left on the disk, or the account's disk quota is used up.</summary>
        public static bool IsDiskFull(Exception ex) =>
            ex is IOException && (ex.HResult == Win32(DiskFull) || ex.HResult == Win32(HandleDiskFull)
                || ex.HResult == UnixNoSpace || ex.HResult == LinuxQuotaExceeded);

        /// <summary>
        /// Writing is refused outright, whatever is written: access denied (a folder this account may not write to, on
        /// Windows and Unix alike UnauthorizedAccessException) or a read-only file system.
        /// </summary>
        public static bool IsWriteRefused(Exception ex) => ex is UnauthorizedAccessException || IsReadOnly(ex);

        private static bool IsReplaceHeldUp(int hresult) =>
            hresult == Win32(UnableToRemoveReplaced) || hresult == Win32(UnableToMoveReplacement) || hresult == Win32(UnableToMoveReplacement2);

        private static int Win32(int error) => Win32Facility | error;
    }
}
