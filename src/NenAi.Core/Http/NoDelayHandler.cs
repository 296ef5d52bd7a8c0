using System;
using System.Net.Http;
using System.Threading;
using System.Threading.Tasks;

namespace NenAi.Core.Http
{
    /// <summary>
    /// Turns Nagle's algorithm off for the module's requests on .NET Framework, where it is a setting of the ServicePoint
    /// (one per host, or per proxy, shared by the process) that HttpClientHandler does not expose: a socket gets NoDelay
    /// when its ServicePoint's UseNagleAlgorithm is false as it connects (ServicePoint.cs 319), so each request first sets
    /// it on the ServicePoint it will use. Small writes (a POST's headers, then its body) then leave at once instead of
    /// waiting up to 200 ms for the server's delayed ACK. .NET (PowerShell 7) sets NoDelay on every socket itself.
    /// </summary>
    public sealed class NoDelayHandler : DelegatingHandler
    {
        private readonly Action<Uri> _noDelay;

        /// <param name="noDelay">Turns Nagle off for the ServicePoint a request to the given address uses.</param>
        public NoDelayHandler(HttpMessageHandler inner, Action<Uri> noDelay) : base(inner)
        {
            _noDelay = noDelay ?? throw new ArgumentNullException(nameof(noDelay));
        }

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request.RequestUri != null) _noDelay(request.RequestUri);
            return base.SendAsync(request, cancellationToken);
        }
    }
}
