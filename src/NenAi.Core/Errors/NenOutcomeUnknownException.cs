using System;

namespace NenAi.Core.Errors
{
    /// <summary>
    /// A POST /runs whose fate is unknown: the request may have reached the server (timeout, reset after
    /// sending, 500/502/504). Retrying could start the run twice, so it is reported instead.
    /// </summary>
    public sealed class NenOutcomeUnknownException : NenException
    {
        public NenOutcomeUnknownException(string message, string idempotencyKey, Exception? inner = null)
            : base(NenErrorIds.OutcomeUnknown, NenErrorCategory.InvalidResult, message, inner)
        {
            IdempotencyKey = idempotencyKey;
        }

        protected override NenException Copy(string message) => new NenOutcomeUnknownException(message, IdempotencyKey, this);

        /// <summary>The Idempotency-Key that was sent; resubmitting with it is safe where the server honours it.</summary>
        public string IdempotencyKey { get; }
    }
}
