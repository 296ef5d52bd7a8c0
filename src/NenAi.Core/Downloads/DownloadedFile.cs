namespace NenAi.Core.Downloads
{
    /// <summary>One local result file.</summary>
    public sealed class DownloadedFile(string messageId, string name, string path, long length, bool skipped, bool expanded = false, string? contentType = null)
    {
        public string MessageId { get; } = messageId;
        public string Name { get; } = name;
        public string Path { get; } = path;
        public long Length { get; } = length;
        /// <summary>Already complete on disk; not downloaded again.</summary>
        public bool Skipped { get; } = skipped;
        /// <summary>Unpacked from a result archive.</summary>
        public bool Expanded { get; } = expanded;
        /// <summary>The media type the service gave the result (none for a file unpacked from an archive).</summary>
        public string? ContentType { get; } = contentType;

        public override string ToString() => Path;
    }
}
