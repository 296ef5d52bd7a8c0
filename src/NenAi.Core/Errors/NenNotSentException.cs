using System;

namespace NenAi.Core.Errors
{
    /// <summary>
    /// A request that provably never reached the service, because the batch stopped sending before its turn (the
    /// service kept throttling past the retry budget, the journal could not be written, the command was stopped).
    /// Nothing was started, so a re-run may send it.
    /// </summary>
    public sealed class NenNotSentException : NenException
    {
        public NenNotSentException(string message, NenErrorCategory category, Exception? inner = null)
            : base(NenErrorIds.NotSent, category, message, inner)
        {
        }

        protected override NenException Copy(string message) => new NenNotSentException(message, Category, this);

        public static NenNotSentException GateClosed(NenException reason) =>
            new NenNotSentException($"Not sent: {reason.Message} Nothing was started for this row; re-run the same command (with its -JournalPath) to send the rows that were not.",
                reason.Category, reason) { RetryAfter = reason.RetryAfter };

        public static NenNotSentException Stopped(Exception? inner = null) =>
            new NenNotSentException("Not sent: the command was stopped before this row's request left. Nothing was started for it; a re-run sends it.",
                NenErrorCategory.OperationStopped, inner);
    }
}
