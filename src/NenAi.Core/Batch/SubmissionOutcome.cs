using NenAi.Core.Errors;
using NenAi.Core.Models;

namespace NenAi.Core.Batch
{
    /// <summary>What became of one submitted row.</summary>
    public sealed class SubmissionOutcome(RunRequest request, SubmissionStatus status, RunAccepted? run, NenException? error)
    {
        public RunRequest Request { get; } = request;
        public SubmissionStatus Status { get; } = status;
        public RunAccepted? Run { get; } = run;
        public NenException? Error { get; } = error;
        public bool Succeeded => Status == SubmissionStatus.Accepted || Status == SubmissionStatus.AlreadyAccepted;

        public override string ToString() => Run != null ? $"{Status}: {Run.MessageId}" : $"{Status}: {Error?.ErrorId}";
    }
}
