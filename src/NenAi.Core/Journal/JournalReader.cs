using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using NenAi.Core.Errors;

namespace NenAi.Core.Journal
{
    /// <summary>
    /// Reads a Start-NenRun journal for listing, never for writing: no lock is taken and the batch that owns the
    /// file may still be appending to it. Lines that are JSON but not row records (a batch header) are passed
    /// over; lines that cannot be read (torn by a crash) are counted, never fatal.
    /// </summary>
    public static class JournalReader
    {
        public static JournalSnapshot Read(string path)
        {
            string full = Files.PathLimit.ForThisProcess().FullPath(path, folder: false, $"the journal '{path}'");
            var rows = new List<JournalEntry>();
            var index = new Dictionary<string, int>(StringComparer.Ordinal);
            int unreadable = 0;
            try
            {
                // ReadWrite|Delete sharing: the batch holding the journal keeps writing while we read.
                using var stream = new FileStream(full, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 64 * 1024, FileOptions.SequentialScan);
                using var reader = new StreamReader(stream, new UTF8Encoding(false), detectEncodingFromByteOrderMarks: true);
                string? line;
                while ((line = reader.ReadLine()) != null)
                {
                    if (string.IsNullOrWhiteSpace(line)) continue;
                    JournalLine parsed = JournalLine.Parse(line);
                    if (!parsed.IsReadable) unreadable++;
                    JournalEntry? entry = parsed.Entry;
                    if (entry is null) continue;
                    // The last record of a row is its state; the row keeps the place where it first appeared.
                    if (index.TryGetValue(entry.Key, out int at)) rows[at] = entry;
                    else
                    {
                        index[entry.Key] = rows.Count;
                        rows.Add(entry);
                    }
                }
            }
            catch (Exception ex) when (ex is FileNotFoundException || ex is DirectoryNotFoundException)
            {
                throw new NenException(NenErrorIds.JournalNotFound, NenErrorCategory.ObjectNotFound, $"The journal '{full}' does not exist.", ex);
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException)
            {
                throw new NenException(NenErrorIds.JournalCorrupt, NenErrorCategory.ResourceUnavailable, $"The journal '{full}' cannot be read: {ex.Message}", ex);
            }
            return new JournalSnapshot(full, rows, unreadable);
        }
    }
}
