using System.Collections.Generic;
using NenAi.Core.Errors;

namespace NenAi.Core.Downloads
{
    /// <summary>The files of one run that are on disk, and the ones that could not be (one error each).</summary>
    public sealed class RunDownloadResult
    {
        public List<DownloadedFile> Files { get; } = new List<DownloadedFile>();
        public List<NenException> Errors { get; } = new List<NenException>();
    }
}
