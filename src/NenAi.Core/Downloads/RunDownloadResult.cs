using System.Collections.Generic;
using NenAi.Core.Errors;
using NenAi.Core.Models;

namespace NenAi.Core.Downloads
{
    /// <summary>The files of one run that are on disk, the ones that could not be (one error each), and the ones not tried because the downloads stopped.</summary>
    public sealed class RunDownloadResult
    {
        /// <summary>The run's status the files were downloaded by (looked up, or refreshed, when the one given would not do).</summary>
        public RunSnapshot? Run { get; set; }
        public List<DownloadedFile> Files { get; } = new List<DownloadedFile>();
        public List<NenException> Errors { get; } = new List<NenException>();
        /// <summary>Results not downloaded because the downloads stopped first (an outage, an error that stops the command): no error of their own.</summary>
        public List<string> NotDownloaded { get; } = new List<string>();
        /// <summary>False for a failed run's files (its logs or partial results): its failure is among <see cref="Errors"/>.</summary>
        public bool RunSucceeded { get; set; } = true;
    }
}
