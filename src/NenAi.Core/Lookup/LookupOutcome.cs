using NenAi.Core.Errors;
using NenAi.Core.Models;

namespace NenAi.Core.Lookup
{
    /// <summary>The answer for one run looked up: its status, or the error that prevented it. One per run added.</summary>
    public sealed class LookupOutcome
    {
        public LookupOutcome(string messageId, object? tag, RunSnapshot? status, NenException? error)
        {
            MessageId = messageId;
            Tag = tag;
            Status = status;
            Error = error;
        }

        public string MessageId { get; }
        /// <summary>What the caller added with the run (the pipeline input, for error records).</summary>
        public object? Tag { get; }
        public RunSnapshot? Status { get; }
        public NenException? Error { get; }

        public override string ToString() => Status != null ? $"{MessageId}: {Status.Status}" : $"{MessageId}: {Error?.ErrorId}";
    }
}
