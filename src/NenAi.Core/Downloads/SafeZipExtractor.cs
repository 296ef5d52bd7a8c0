using System;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using NenAi.Core.Errors;

namespace NenAi.Core.Downloads
{
    /// <summary>
    /// Unpacks a result archive, refusing "zip slip": every entry's segments are checked as file names
    /// and the final path must stay inside the target. Nothing is written when any entry is unsafe.
    /// </summary>
    public static class SafeZipExtractor
    {
        public static IReadOnlyList<string> Extract(string zipPath, string targetDirectory, bool overwrite)
        {
            string root = Path.GetFullPath(targetDirectory);
            using ZipArchive archive = ZipFile.OpenRead(zipPath);
            var plan = new List<(ZipArchiveEntry Entry, string Path)>();
            foreach (ZipArchiveEntry entry in archive.Entries)
            {
                string name = entry.FullName;
                if (name.EndsWith("/", StringComparison.Ordinal) || name.EndsWith("\\", StringComparison.Ordinal)) continue; // directory entry
                string[] segments = name.Split('/', '\\');
                if (name.StartsWith("/", StringComparison.Ordinal) || name.StartsWith("\\", StringComparison.Ordinal) || (name.Length > 1 && name[1] == ':'))
                    throw Unsafe(zipPath, name, "it is an absolute path");
                foreach (string segment in segments)
                {
                    string? problem = SafeFileName.Problem(segment);
                    if (problem != null) throw Unsafe(zipPath, name, problem);
                }
                string full = Path.GetFullPath(Path.Combine(root, Path.Combine(segments)));
                if (!SafeFileName.IsInside(root, full)) throw Unsafe(zipPath, name, "it leaves the target folder");
                plan.Add((entry, full));
            }

            var written = new List<string>();
            foreach (var (entry, full) in plan)
            {
                Directory.CreateDirectory(Path.GetDirectoryName(full)!);
                if (File.Exists(full) && !overwrite) { written.Add(full); continue; }
                entry.ExtractToFile(full, overwrite: true);
                written.Add(full);
            }
            return written;
        }

        private static NenException Unsafe(string zipPath, string entry, string problem) =>
            new NenException(NenErrorIds.UnsafeZipEntry, NenErrorCategory.SecurityError,
                $"Refusing to unpack '{Path.GetFileName(zipPath)}': the entry '{SafeFileName.Printable(entry)}' is unsafe ({problem}). Nothing was unpacked.");
    }
}
