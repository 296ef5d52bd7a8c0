using NenAi.Core.Errors;
using NenAi.Core.Models;

namespace NenAi.Core.Batch
{
    /// <summary>What became of one submitted row.</summary>
    public sealed class SubmissionOutcome
    {
        public SubmissionOutcome(RunRequest request, SubmissionStatus status, RunAccepted? run, NenException? error)
        {
            Request = request;
            Status = status;
            Run = run;
            Error = error;
        }

        public RunRequest Request { get; }
        public SubmissionStatus Status { get; }
        public RunAccepted? Run { get; }
        public NenException? Error { get; }
        public bool Succeeded => Status == SubmissionStatus.Accepted || Status == SubmissionStatus.AlreadyAccepted;

        public override string ToString() => Run != null ? $"{Status}: {Run.MessageId}" : $"{Status}: {Error?.ErrorId}";
    }
}
