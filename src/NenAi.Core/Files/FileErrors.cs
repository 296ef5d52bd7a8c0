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
        private const int LinuxWouldBlock = 11;         // EWOULDBLOCK: flock() of a file another process holds
        private const int MacWouldBlock = 35;

        /// <summary>Another process has the file open in a way that excludes us (FileShare.None, a held flock).</summary>
        public static bool IsSharingViolation(Exception ex) => ex is IOException && IsSharingViolation(ex.HResult);

        public static bool IsSharingViolation(int hresult) =>
            hresult == Win32(SharingViolation) || hresult == Win32(LockViolation) || hresult == LinuxWouldBlock || hresult == MacWouldBlock;

        /// <summary>
        /// Held only for a moment by someone else, as an antivirus scanner or the search indexer holds a file it has just
        /// seen: a sharing violation, a File.Replace that could not remove the file it replaces, or access denied (what
        /// Windows answers for a file whose deletion is pending until the last handle to it closes).
        /// </summary>
        public static bool IsBriefLock(Exception ex) =>
            IsSharingViolation(ex) || ex is UnauthorizedAccessException || (ex is IOException && ex.HResult == Win32(UnableToRemoveReplaced));

        private static int Win32(int error) => Win32Facility | error;
    }
}
