using System;
using NenAi.Core.Errors;

namespace NenAi.Core.Http
{
    /// <summary>A network failure or timeout, remembering whether the request provably never left.</summary>
    public sealed class NenTransportException : NenException
    {
        public NenTransportException(string message, bool provablyNotSent, Exception? inner,
            string errorId = NenErrorIds.NetworkError, NenErrorCategory category = NenErrorCategory.ConnectionError)
            : base(errorId, category, message, inner)
        {
            ProvablyNotSent = provablyNotSent;
            IsTransient = true;
        }

        public bool ProvablyNotSent { get; }

        protected override NenException Copy(string message) => new NenTransportException(message, ProvablyNotSent, this, ErrorId, Category);
    }
}
