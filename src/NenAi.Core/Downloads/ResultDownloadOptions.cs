using NenAi.Core.Files;

namespace NenAi.Core.Downloads
{
    public sealed class ResultDownloadOptions
    {
        public ResultDownloadOptions(string destination) => Destination = destination;

        /// <summary>Files go to Destination/&lt;messageId&gt;/.</summary>
        public string Destination { get; }
        /// <summary>Download again even when the file is already complete.</summary>
        public bool Force { get; set; }
        /// <summary>Unpack .zip results (zip-slip refused) into a folder beside them.</summary>
        public bool Expand { get; set; }
        /// <summary>
        /// Requests in flight at once (-ThrottleLimit), across every run the downloader serves: file transfers, and the
        /// lookups and link refreshes they need. 1 downloads one file at a time.
        /// </summary>
        public int MaxConcurrency { get; set; } = 1;
        /// <summary>After a file's failure no other file starts, of this run or any other (the command stops at that error: -ErrorAction Stop).</summary>
        public bool StopAtFirstError { get; set; }
        /// <summary>Refuse any single file larger than this.</summary>
        public long MaxFileBytes { get; set; } = 4L * 1024 * 1024 * 1024;
        /// <summary>Unpacking an archive stops beyond this many bytes in all (a zip bomb is refused, not expanded).</summary>
        public long MaxExpandedBytes { get; set; } = 16L * 1024 * 1024 * 1024;
        /// <summary>Unpacking an archive stops beyond this many entries.</summary>
        public int MaxZipEntries { get; set; } = 100_000;
        /// <summary>The longest paths that may be written; null: what this process allows (<see cref="PathLimit.ForThisProcess"/>).</summary>
        public PathLimit? PathLimit { get; set; }
    }
}
