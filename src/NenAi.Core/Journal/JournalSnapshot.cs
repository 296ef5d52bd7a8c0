using System.Collections.Generic;

namespace NenAi.Core.Journal
{
    /// <summary>What a journal file says about its rows: the last record of each row key, in the order the rows first appear.</summary>
    public sealed class JournalSnapshot
    {
        public JournalSnapshot(string path, IReadOnlyList<JournalEntry> rows, int unreadableLines)
        {
            Path = path;
            Rows = rows;
            UnreadableLines = unreadableLines;
        }

        public string Path { get; }
        public IReadOnlyList<JournalEntry> Rows { get; }
        /// <summary>Lines that are not a complete record: cut short by a crash, or still being written by a running batch.</summary>
        public int UnreadableLines { get; }
    }
}
