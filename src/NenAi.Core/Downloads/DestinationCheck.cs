using System;
using System.IO;
using NenAi.Core.Errors;
using NenAi.Core.Files;

namespace NenAi.Core.Downloads
{
    /// <summary>
    /// Tells a destination that no run's files can be written to (a read-only file system, a folder this account may not
    /// write to, a path too long, a full disk, a drive that is not there) from one run's own trouble, once a run's folder
    /// or file could not be written: every run would fail the same way, so it is one error that stops the downloads,
    /// not one per run. It does what every run does, making a folder directly in the destination (the destination too,
    /// when it is not there yet), under a name no run has, and writing a small file in it, and removes both again at
    /// once, so it leaves nothing in the destination. (The file matters: a full tmpfs, or NTFS with its small folders
    /// kept in the MFT, still makes folders when no file's data can be written.)
    /// </summary>
    public static class DestinationCheck
    {
        /// <summary>How long the service's run ids are (messageId: a UUID in the API's examples), so how long a run's folder name is.</summary>
        public const int RunFolderNameLength = 36;

        /// <summary>The probe folder's name starts so; it is removed as soon as it is made.</summary>
        public const string ProbePrefix = ".nenai-probe-";

        /// <summary>The probe file's size: more than NTFS keeps inside the MFT (about 700 bytes), so it needs space of its own on the disk.</summary>
        private const int ProbeFileBytes = 4096;
        private const string ProbeFileName = "probe";

        /// <summary>
        /// Why no run's folder can be made in <paramref name="destination"/> (a full path), as the one error that stops the
        /// downloads; null when one can, so a run's failure was its own.
        /// </summary>
        /// <param name="paths">The longest paths this process can write (Windows PowerShell 5.1's MAX_PATH).</param>
        public static NenException? Problem(string destination, PathLimit? paths = null)
        {
            PathLimit limit = paths ?? PathLimit.ForThisProcess();
            string root = destination.TrimEnd(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar);
            // Joined as text: the destination was checked when the command began, and the probe's name is plain.
            int runFolder = root.Length + 1 + RunFolderNameLength;
            if (runFolder > limit.MaxFolder) return TooLongForRuns(destination, runFolder, limit.MaxFolder);
            // A folder name longer than any file system takes: said as such, whatever error the system would give for it
            // (Windows may call it an invalid name rather than a long one).
            foreach (string name in root.Split(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar))
            {
                if (name.Length > SafeFileName.MaxLength)
                    return new NenException(NenErrorIds.PathTooLong, NenErrorCategory.LimitsExceeded,
                        $"-Destination '{Shortened(destination)}' cannot be used: a folder name in it is {name.Length} characters, and file systems allow at most {SafeFileName.MaxLength} (on Windows and Linux alike), so no run's files can be saved there. Choose a shorter -Destination.");
            }
            string probe = root + Path.DirectorySeparatorChar + ProbePrefix + Guid.NewGuid().ToString("N").Substring(0, 12);
            try
            {
                Directory.CreateDirectory(probe);
                using (var file = new FileStream(Path.Combine(probe, ProbeFileName), FileMode.CreateNew, FileAccess.Write, FileShare.None))
                    file.Write(new byte[ProbeFileBytes], 0, ProbeFileBytes);
                return null;
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException || ex is NotSupportedException || ex is ArgumentException)
            {
                return Refused(destination, ex, probe);
            }
            finally
            {
                Remove(probe);
            }
        }

        /// <summary>
        /// The one error for a destination in which a folder could not be made, told from what the runtime threw there
        /// (<paramref name="ex"/>; <paramref name="probe"/>: the path it names, which the message does not show).
        /// </summary>
        public static NenException Refused(string destination, Exception ex, string? probe = null)
        {
            string shown = Shortened(destination);
            if (ex is PathTooLongException)
                return new NenException(NenErrorIds.PathTooLong, NenErrorCategory.LimitsExceeded,
                    $"-Destination '{shown}' cannot be used: the file system refused a folder in it as too long (a folder name may have at most 255 characters, a whole path at most 4,096 on Linux and 32,767 on Windows), so no run's files can be saved there. Choose a shorter -Destination.", ex);
            if (ex is UnauthorizedAccessException)
                return new NenException(NenErrorIds.DestinationNotWritable, NenErrorCategory.PermissionDenied,
                    $"-Destination '{shown}' cannot be written: this account ('{Environment.UserName}') may not create folders in it (access denied), so no run's files can be saved there. Grant it that right (on Windows: Modify), or choose a -Destination it may write to.", ex);
            if (FileErrors.IsReadOnly(ex))
                return new NenException(NenErrorIds.DestinationNotWritable, NenErrorCategory.WriteError,
                    $"-Destination '{shown}' cannot be written: it is on a read-only file system (or a write-protected disk), so no run's files can be saved there. Choose a -Destination on a disk or share that can be written.", ex);
            if (FileErrors.IsDiskFull(ex))
                return new NenException(NenErrorIds.DestinationNotWritable, NenErrorCategory.WriteError,
                    $"-Destination '{shown}' cannot be written: its disk is full (or this account's disk quota is used up), so no run's files can be saved there. Free space, or choose another -Destination.", ex);
            if (ex is DirectoryNotFoundException)
                return new NenException(NenErrorIds.DestinationNotWritable, NenErrorCategory.ObjectNotFound,
                    $"-Destination '{shown}' cannot be written: its drive, share or a folder above it cannot be found, so no run's files can be saved there. (A drive letter mapped at logon is not there for a scheduled task's account: give a UNC path, such as \\\\server\\share\\results.)", ex);
            string reason = (probe is null ? ex.Message : ex.Message.Replace(probe, destination)).TrimEnd('.', ' ');
            return new NenException(NenErrorIds.DestinationNotWritable, NenErrorCategory.WriteError,
                $"-Destination '{shown}' cannot be written ({reason}), so no run's files can be saved there. Fix the folder or choose another -Destination.", ex);
        }

        /// <summary>Windows PowerShell 5.1 (.NET Framework) refuses every run's folder in a destination this long.</summary>
        private static NenException TooLongForRuns(string destination, int runFolder, int max) =>
            new NenException(NenErrorIds.PathTooLong, NenErrorCategory.LimitsExceeded,
                $"-Destination '{Shortened(destination)}' is too long: a run's folder in it (its id is {RunFolderNameLength} characters) would be {runFolder} characters, and Windows PowerShell 5.1 (.NET Framework) allows at most {max} for a folder, so no run's files can be saved there. Choose a shorter -Destination (such as C:\\nen\\results), or use PowerShell 7.");

        /// <summary>
        /// Removes the probe file and folder. (The destination itself, when the probe had to make it, stays: the runs' folders go
        /// there next, and removing it could pull it from under a run making its folder at that moment.)
        /// </summary>
        private static void Remove(string probe)
        {
            try
            {
                string file = Path.Combine(probe, ProbeFileName);
                if (File.Exists(file)) File.Delete(file);
                if (Directory.Exists(probe)) Directory.Delete(probe, recursive: false);
            }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }

        private static string Shortened(string path) => path.Length <= 120 ? path : path.Substring(0, 58) + "..." + path.Substring(path.Length - 58);
    }
}
