using NenAi.Core.Errors;
using NenAi.Core.Models;

namespace NenAi.Core.Lookup
{
    /// <summary>The answer for one run looked up: its status, or the error that prevented it. One per run added.</summary>
    public sealed class LookupOutcome(string messageId, object? tag, RunSnapshot? status, NenException? error)
    {
        public string MessageId { get; } = messageId;
        /// <summary>What the caller added with the run (the pipeline input, for error records).</summary>
        public object? Tag { get; } = tag;
        public RunSnapshot? Status { get; } = status;
        public NenException? Error { get; } = error;

        public override string ToString() => Status != null ? $"{MessageId}: {Status.Status}" : $"{MessageId}: {Error?.ErrorId}";
    }
}
