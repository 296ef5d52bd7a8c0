using System;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using NenAi.Core.Errors;
using NenAi.Core.Files;

namespace NenAi.Core.Downloads
{
    /// <summary>
    /// Unpacks a result archive safely. "Zip slip" is refused: every entry's segments are checked as file names
    /// and the final path must stay inside the target. So are zip bombs: the entry count and the total size are
    /// limited, counting the bytes actually unpacked rather than trusting the archive's headers. Paths too long for
    /// this process are refused before anything is written. Everything goes to a staging folder first and is renamed
    /// when complete, so a folder that exists is whole and a crash mid-way leaves nothing that looks done. Nothing is
    /// unpacked when any entry is refused. Entries that would be one file on Windows (names that differ only in case,
    /// a file where another entry needs a folder, the same name twice) are not refused: the first is unpacked and each
    /// later one is reported (<see cref="ExtractedArchive.Conflicts"/>).
    /// </summary>
    public sealed class SafeZipExtractor
    {
        private readonly long _maxBytes;
        private readonly int _maxEntries;
        private readonly PathLimit _paths;

        public SafeZipExtractor(long maxBytes, int maxEntries, PathLimit? paths = null)
        {
            _maxBytes = maxBytes;
            _maxEntries = maxEntries;
            _paths = paths ?? PathLimit.None;
        }

        /// <summary>
        /// Unpacks into <paramref name="targetDirectory"/> through <paramref name="stagingDirectory"/> (on the same
        /// volume, and never a name a result could have); when the target already exists (and no overwrite), its files
        /// are returned as they are.
        /// </summary>
        public ExtractedArchive Extract(string zipPath, string targetDirectory, string stagingDirectory, bool overwrite)
        {
            string root = FullPath(targetDirectory, $"the folder '{Path.GetFileName(targetDirectory)}' that '{Path.GetFileName(zipPath)}' unpacks into");
            string staging = FullPath(stagingDirectory, $"the folder '{Path.GetFileName(zipPath)}' is unpacked in first");
            if (Directory.Exists(root) && !overwrite) return new ExtractedArchive(Directory.GetFiles(root, "*", SearchOption.AllDirectories), alreadyThere: true);

            if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true); // left by an earlier crash
            using ZipArchive archive = ZipFile.OpenRead(zipPath);
            var plan = new List<(ZipArchiveEntry Entry, string Relative)>();
            var conflicts = new List<NenException>();
            var layout = new ArchiveLayout();
            long declared = 0;
            int files = 0;
            foreach (ZipArchiveEntry entry in archive.Entries)
            {
                string name = entry.FullName;
                if (name.EndsWith("/", StringComparison.Ordinal) || name.EndsWith("\\", StringComparison.Ordinal)) continue; // directory entry
                if (files++ == _maxEntries) throw TooBig(zipPath, $"it has more than {_maxEntries:N0} entries");
                string[] segments = name.Split('/', '\\');
                if (SafeFileName.IsRooted(name)) throw Unsafe(zipPath, name, "it is an absolute path");
                // Each segment's characters first: on .NET Framework, Path.Combine and GetFullPath throw for '"', '<', '>',
                // '|' and control characters, which would fail the download instead of refusing the entry.
                foreach (string segment in segments)
                {
                    string? problem = SafeFileName.Problem(segment);
                    if (problem != null) throw Unsafe(zipPath, name, problem);
                }
                string? clash = layout.Add(segments);
                string relative = Path.Combine(segments);
                string final = Path.Combine(root, relative);
                if (clash != null)
                {
                    conflicts.Add(new NenException(NenErrorIds.ResultNameConflict, NenErrorCategory.ResourceExists,
                        $"The entry '{SafeFileName.Printable(name)}' of '{Path.GetFileName(zipPath)}' was not unpacked: {clash}. The archive's other entries were unpacked."));
                    continue;
                }
                // The lengths before any path method normalises the path (on .NET Framework, GetFullPath and
                // GetDirectoryName throw PathTooLongException at 260).
                CheckLength(final, name);
                CheckLength(Path.Combine(staging, relative), name);
                if (!SafeFileName.IsInside(root, FullPath(final, $"the entry '{SafeFileName.Printable(name)}' of '{Path.GetFileName(zipPath)}'", folder: false))) throw Unsafe(zipPath, name, "it leaves the target folder");
                declared += entry.Length;
                if (declared > _maxBytes) throw TooBig(zipPath, $"it unpacks to more than {_maxBytes:N0} bytes");
                plan.Add((entry, relative));
            }

            var unpacked = new List<string>(plan.Count);
            long total = 0;
            try
            {
                Directory.CreateDirectory(staging);
                foreach (var (entry, relative) in plan)
                {
                    string path = Path.Combine(staging, relative);
                    Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                    using (Stream input = entry.Open())
                    using (var output = new FileStream(path, FileMode.CreateNew, FileAccess.Write))
                    {
                        total += CopyAtMost(input, output, entry.Length, _maxBytes - total, zipPath, entry.FullName);
                    }
                    unpacked.Add(Path.Combine(root, relative));
                }
                FileRetry.MoveFolderIntoPlace(staging, root);
            }
            catch
            {
                if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
                throw;
            }
            return new ExtractedArchive(unpacked, alreadyThere: false, conflicts);

            void CheckLength(string path, string entry)
            {
                string what = $"the entry '{SafeFileName.Printable(entry)}' of '{Path.GetFileName(zipPath)}'";
                try
                {
                    _paths.Check(path, folder: false, what);
                    _paths.Check(_paths.FolderOf(path, what, NenErrorIds.UnsafeZipEntry)!, folder: true, what);
                }
                catch (NenException ex)
                {
                    throw NothingUnpacked(ex);
                }
            }

            string FullPath(string path, string what, bool folder = true)
            {
                try
                {
                    return _paths.FullPath(path, folder, what, NenErrorIds.UnsafeZipEntry);
                }
                catch (NenException ex)
                {
                    throw NothingUnpacked(ex);
                }
            }
        }

        private static NenException NothingUnpacked(NenException ex) =>
            new NenException(ex.ErrorId, ex.Category, ex.Message + " Nothing was unpacked; the archive itself is kept.", ex);

        /// <summary>Copies an entry, refusing it when it unpacks to more than it declared or than the budget left.</summary>
        private static long CopyAtMost(Stream input, Stream output, long declared, long budget, string zipPath, string entry)
        {
            byte[] buffer = new byte[81920];
            long total = 0;
            int read;
            while ((read = input.Read(buffer, 0, buffer.Length)) > 0)
            {
                total += read;
                if (total > declared) throw Unsafe(zipPath, entry, $"it unpacks to more than the {declared:N0} bytes it declares");
                if (total > budget) throw TooBig(zipPath, "it unpacks to more than the size limit");
                output.Write(buffer, 0, read);
            }
            return total;
        }

        private static NenException Unsafe(string zipPath, string entry, string problem) =>
            new NenException(NenErrorIds.UnsafeZipEntry, NenErrorCategory.SecurityError,
                $"Refusing to unpack '{Path.GetFileName(zipPath)}': the entry '{SafeFileName.Printable(entry)}' is unsafe ({problem}). Nothing was unpacked.");

        private static NenException TooBig(string zipPath, string problem) =>
            new NenException(NenErrorIds.UnsafeZipEntry, NenErrorCategory.LimitsExceeded,
                $"Refusing to unpack '{Path.GetFileName(zipPath)}': {problem} (a zip bomb?). Nothing was unpacked; the archive itself is kept.");

        /// <summary>
        /// The files and folders an archive's entries make, compared as Windows compares names (ignoring case), so a
        /// folder unpacked on Linux holds exactly what it would hold on Windows.
        /// </summary>
        private sealed class ArchiveLayout
        {
            private readonly Dictionary<string, string> _files = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            private readonly Dictionary<string, string> _folders = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);

            /// <summary>
            /// Records the entry and returns null, or says which earlier entry it would collide with. <paramref name="segments"/>
            /// comes back with its folders spelled as the archive first spelled them ("Dir/x" then "dir/y" both go to "Dir").
            /// </summary>
            public string? Add(string[] segments)
            {
                var folders = new List<KeyValuePair<string, string>>();
                string spelled = string.Empty;
                for (int i = 0; i < segments.Length - 1; i++)
                {
                    string key = string.Join("/", segments, 0, i + 1);
                    if (_files.TryGetValue(key, out string? file)) return $"its folder '{SafeFileName.Printable(file)}' is a file of the archive";
                    if (!_folders.TryGetValue(key, out string? known))
                    {
                        known = spelled.Length == 0 ? segments[i] : spelled + "/" + segments[i];
                        folders.Add(new KeyValuePair<string, string>(key, known));
                    }
                    spelled = known;
                }
                string path = string.Join("/", segments);
                if (_files.TryGetValue(path, out string? same))
                    return same == path ? "an earlier entry has the same name" : $"its name differs from '{SafeFileName.Printable(same)}' only in case, and on Windows both would be one file";
                if (_folders.TryGetValue(path, out string? folder)) return $"the archive also has a folder '{SafeFileName.Printable(folder)}'";
                foreach (var f in folders) _folders[f.Key] = f.Value;
                _files[path] = path;
                string[] parents = spelled.Length == 0 ? new string[0] : spelled.Split('/');
                for (int i = 0; i < parents.Length; i++) segments[i] = parents[i];
                return null;
            }
        }
    }

    /// <summary>The files of an unpacked archive, whether they were already there, and the entries left out.</summary>
    public sealed class ExtractedArchive
    {
        public ExtractedArchive(IReadOnlyList<string> files, bool alreadyThere, IReadOnlyList<NenException>? conflicts = null)
        {
            Files = files;
            AlreadyThere = alreadyThere;
            Conflicts = conflicts ?? Array.Empty<NenException>();
        }

        public IReadOnlyList<string> Files { get; }
        public bool AlreadyThere { get; }
        /// <summary>One <see cref="NenErrorIds.ResultNameConflict"/> per entry that was not unpacked because an earlier one has its name.</summary>
        public IReadOnlyList<NenException> Conflicts { get; }
    }
}
