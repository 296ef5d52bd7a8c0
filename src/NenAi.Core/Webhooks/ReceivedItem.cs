using NenAi.Core.Errors;
using NenAi.Core.Models;

namespace NenAi.Core.Webhooks
{
    public enum ReceivedItemKind
    {
        /// <summary>A new update of a run: its final status (by webhook or by polling), or an interim one when asked for.</summary>
        Update,
        /// <summary>
        /// A run waited for had not finished by its deadline: <see cref="ReceivedItem.Status"/> is its last known status, if
        /// any. <see cref="ReceivedItem.Error"/> is null when polling had stopped: one error at the end names all such runs.
        /// </summary>
        TimedOut,
        /// <summary>A run could not be followed, or a correctly signed delivery could not be used.</summary>
        Error,
    }

    /// <summary>One thing for the receiver's caller to write, in the order it became known.</summary>
    public sealed class ReceivedItem
    {
        internal ReceivedItem(ReceivedItemKind kind, string? messageId, object? tag, RunSnapshot? status, NenException? error, bool byPolling, bool stopsReceiver = false)
        {
            StopsReceiver = stopsReceiver;
            Kind = kind;
            MessageId = messageId;
            Tag = tag;
            Status = status;
            Error = error;
            ByPolling = byPolling;
        }

        public ReceivedItemKind Kind { get; }
        public string? MessageId { get; }
        /// <summary>What the caller added with the run (the pipeline input), if the run was waited for.</summary>
        public object? Tag { get; }
        public RunSnapshot? Status { get; }
        public NenException? Error { get; }
        /// <summary>The final status came from a status query because its webhook did not come in time.</summary>
        public bool ByPolling { get; }
        /// <summary>An error after which the receiver cannot go on (its state file cannot be written): the command ends with it.</summary>
        public bool StopsReceiver { get; }

        public override string ToString() => $"{Kind} {MessageId} {Status?.Status}{(ByPolling ? " (polled)" : string.Empty)}";
    }
}
