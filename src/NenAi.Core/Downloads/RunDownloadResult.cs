using System.Collections.Generic;
using NenAi.Core.Errors;
using NenAi.Core.Models;

namespace NenAi.Core.Downloads
{
    /// <summary>The files of one run that are on disk, and the ones that could not be (one error each).</summary>
    public sealed class RunDownloadResult
    {
        /// <summary>The run's status the files were downloaded by (looked up, or refreshed, when the one given would not do).</summary>
        public RunSnapshot? Run { get; set; }
        public List<DownloadedFile> Files { get; } = new List<DownloadedFile>();
        public List<NenException> Errors { get; } = new List<NenException>();
        /// <summary>False for a failed run's files (its logs or partial results): its failure is among <see cref="Errors"/>.</summary>
        public bool RunSucceeded { get; set; } = true;
    }
}
