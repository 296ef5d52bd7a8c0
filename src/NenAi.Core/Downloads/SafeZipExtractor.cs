using System;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using NenAi.Core.Errors;

namespace NenAi.Core.Downloads
{
    /// <summary>
    /// Unpacks a result archive safely. "Zip slip" is refused: every entry's segments are checked as file names
    /// and the final path must stay inside the target. So are zip bombs: the entry count and the total size are
    /// limited, counting the bytes actually unpacked rather than trusting the archive's headers. Everything goes
    /// to "&lt;folder&gt;.partial" first and is renamed when complete, so a folder that exists is whole and a
    /// crash mid-way leaves nothing that looks done. Nothing is unpacked when any entry is refused.
    /// </summary>
    public sealed class SafeZipExtractor
    {
        private const string StagingSuffix = ".partial";
        private readonly long _maxBytes;
        private readonly int _maxEntries;

        public SafeZipExtractor(long maxBytes, int maxEntries)
        {
            _maxBytes = maxBytes;
            _maxEntries = maxEntries;
        }

        /// <summary>Unpacks into <paramref name="targetDirectory"/>; when it already exists (and no overwrite), its files are returned as they are.</summary>
        public ExtractedArchive Extract(string zipPath, string targetDirectory, bool overwrite)
        {
            string root = Path.GetFullPath(targetDirectory);
            if (Directory.Exists(root) && !overwrite) return new ExtractedArchive(Directory.GetFiles(root, "*", SearchOption.AllDirectories), alreadyThere: true);

            string staging = root + StagingSuffix;
            if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true); // left by an earlier crash
            using ZipArchive archive = ZipFile.OpenRead(zipPath);
            var plan = new List<(ZipArchiveEntry Entry, string Relative)>();
            long declared = 0;
            foreach (ZipArchiveEntry entry in archive.Entries)
            {
                string name = entry.FullName;
                if (name.EndsWith("/", StringComparison.Ordinal) || name.EndsWith("\\", StringComparison.Ordinal)) continue; // directory entry
                if (plan.Count == _maxEntries) throw TooBig(zipPath, $"it has more than {_maxEntries:N0} entries");
                string[] segments = name.Split('/', '\\');
                if (name.StartsWith("/", StringComparison.Ordinal) || name.StartsWith("\\", StringComparison.Ordinal) || (name.Length > 1 && name[1] == ':'))
                    throw Unsafe(zipPath, name, "it is an absolute path");
                foreach (string segment in segments)
                {
                    string? problem = SafeFileName.Problem(segment);
                    if (problem != null) throw Unsafe(zipPath, name, problem);
                }
                string relative = Path.Combine(segments);
                if (!SafeFileName.IsInside(root, Path.GetFullPath(Path.Combine(root, relative)))) throw Unsafe(zipPath, name, "it leaves the target folder");
                declared += entry.Length;
                if (declared > _maxBytes) throw TooBig(zipPath, $"it unpacks to more than {_maxBytes:N0} bytes");
                plan.Add((entry, relative));
            }

            var files = new List<string>(plan.Count);
            long unpacked = 0;
            try
            {
                foreach (var (entry, relative) in plan)
                {
                    string path = Path.Combine(staging, relative);
                    Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                    using (Stream input = entry.Open())
                    using (var output = new FileStream(path, FileMode.CreateNew, FileAccess.Write))
                    {
                        unpacked += CopyAtMost(input, output, entry.Length, _maxBytes - unpacked, zipPath, entry.FullName);
                    }
                    files.Add(Path.Combine(root, relative));
                }
                Directory.CreateDirectory(staging);
                if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
                Directory.Move(staging, root);
            }
            catch
            {
                if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
                throw;
            }
            return new ExtractedArchive(files, alreadyThere: false);
        }

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
    }

    /// <summary>The files of an unpacked archive, and whether they were already there.</summary>
    public sealed class ExtractedArchive
    {
        public ExtractedArchive(IReadOnlyList<string> files, bool alreadyThere)
        {
            Files = files;
            AlreadyThere = alreadyThere;
        }

        public IReadOnlyList<string> Files { get; }
        public bool AlreadyThere { get; }
    }
}
