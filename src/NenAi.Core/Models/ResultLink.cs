using System;

namespace NenAi.Core.Models
{
    /// <summary>One presigned download of a finished run.</summary>
    public sealed class ResultLink(string name, Uri url, string? contentType, long? size)
    {
        public string Name { get; } = name;
        /// <summary>The presigned URL. Its query string is a credential: never log it.</summary>
        public Uri Url { get; } = url;
        public string? ContentType { get; } = contentType;
        public long? Size { get; } = size;

        public override string ToString() => Name;
    }
}
