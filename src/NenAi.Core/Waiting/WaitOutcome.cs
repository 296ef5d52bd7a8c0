using NenAi.Core.Errors;
using NenAi.Core.Models;

namespace NenAi.Core.Waiting
{
    public enum WaitOutcomeKind
    {
        /// <summary>The run reached a terminal status (success or failure: see <see cref="WaitOutcome.Status"/>).</summary>
        Completed,
        /// <summary>The wait timed out first; <see cref="WaitOutcome.Status"/> is the last known status.</summary>
        TimedOut,
        /// <summary>The run could not be followed (e.g. the server no longer knows it).</summary>
        Error,
        /// <summary>
        /// The wait stopped before the run finished (an error that stops the command, refused credentials):
        /// <see cref="WaitOutcome.Error"/> says why; the run itself is not affected.
        /// </summary>
        Stopped,
    }

    /// <summary>What the waiter reports for one run: exactly one per run added.</summary>
    public sealed class WaitOutcome(string messageId, object? tag, WaitOutcomeKind kind, RunSnapshot? status, NenException? error)
    {
        public string MessageId { get; } = messageId;
        public object? Tag { get; } = tag;
        public WaitOutcomeKind Kind { get; } = kind;
        public RunSnapshot? Status { get; } = status;
        public NenException? Error { get; } = error;

        public override string ToString() => $"{MessageId}: {Kind} {Status?.Status}";
    }
}
