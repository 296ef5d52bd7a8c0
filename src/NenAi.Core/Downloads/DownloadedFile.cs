namespace NenAi.Core.Downloads
{
    /// <summary>One local result file.</summary>
    public sealed class DownloadedFile
    {
        public DownloadedFile(string messageId, string name, string path, long length, bool skipped, bool expanded = false)
        {
            MessageId = messageId;
            Name = name;
            Path = path;
            Length = length;
            Skipped = skipped;
            Expanded = expanded;
        }

        public string MessageId { get; }
        public string Name { get; }
        public string Path { get; }
        public long Length { get; }
        /// <summary>Already complete on disk; not downloaded again.</summary>
        public bool Skipped { get; }
        /// <summary>Unpacked from a result archive.</summary>
        public bool Expanded { get; }

        public override string ToString() => Path;
    }
}
