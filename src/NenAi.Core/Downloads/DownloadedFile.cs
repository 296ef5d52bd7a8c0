namespace NenAi.Core.Downloads
{
    /// <summary>One local result file.</summary>
    public sealed class DownloadedFile
    {
        public DownloadedFile(string messageId, string name, string path, long length, bool skipped, bool expanded = false, string? contentType = null)
        {
            MessageId = messageId;
            Name = name;
            Path = path;
            Length = length;
            Skipped = skipped;
            Expanded = expanded;
            ContentType = contentType;
        }

        public string MessageId { get; }
        public string Name { get; }
        public string Path { get; }
        public long Length { get; }
        /// <summary>Already complete on disk; not downloaded again.</summary>
        public bool Skipped { get; }
        /// <summary>Unpacked from a result archive.</summary>
        public bool Expanded { get; }
        /// <summary>The media type the service gave the result (none for a file unpacked from an archive).</summary>
        public string? ContentType { get; }

        public override string ToString() => Path;
    }
}
