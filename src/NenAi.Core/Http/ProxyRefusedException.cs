using System;
using NenAi.Core.Errors;

namespace NenAi.Core.Http
{
    /// <summary>
    /// A proxy, not the service, turned the request away: its credentials (NenProxyAuthenticationRequired), or a tunnel
    /// it will not open (NenNetworkError). Nothing reached the service, and every request through that proxy would be
    /// turned away the same way, so one such answer stops the batch (<see cref="BatchCircuit.Refused"/>).
    /// </summary>
    public sealed class ProxyRefusedException : NenException
    {
        public ProxyRefusedException(string errorId, NenErrorCategory category, string message, Uri? proxy, Exception? inner = null)
            : base(errorId, category, message, inner)
        {
            Proxy = proxy;
        }

        /// <summary>The proxy that answered, when it is known.</summary>
        public Uri? Proxy { get; }

        protected override NenException Copy(string message) => new ProxyRefusedException(ErrorId, Category, message, Proxy, this);
    }
}
