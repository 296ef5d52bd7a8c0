using System;

namespace NenAi.Core.Models
{
    /// <summary>One presigned download of a finished run.</summary>
    public sealed class ResultLink
    {
        public ResultLink(string name, Uri url, string? contentType, long? size)
        {
            Name = name;
            Url = url;
            ContentType = contentType;
            Size = size;
        }

        public string Name { get; }
        /// <summary>The presigned URL. Its query string is a credential: never log it.</summary>
        public Uri Url { get; }
        public string? ContentType { get; }
        public long? Size { get; }

        public override string ToString() => Name;
    }
}
