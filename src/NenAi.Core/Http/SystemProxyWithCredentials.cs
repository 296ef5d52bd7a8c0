using System;
using System.Net;

namespace NenAi.Core.Http
{
    /// <summary>
    /// The system proxy (whatever the process's default proxy says: WinINet settings or WPAD/PAC, environment
    /// variables) with credentials of this module's own. On .NET Framework, HttpClientHandler.DefaultProxyCredentials
    /// writes them onto the static WebRequest.DefaultWebProxy, so they would leak into every later request of the
    /// powershell.exe process and two batches with different credentials would overwrite each other. This object is
    /// given to one handler only; the system proxy is asked per request and never changed.
    /// </summary>
    public sealed class SystemProxyWithCredentials : IWebProxy
    {
        private readonly Func<IWebProxy?> _system;

        /// <param name="system">Reads the process's default proxy (it may be replaced while the process runs).</param>
        public SystemProxyWithCredentials(Func<IWebProxy?> system, ICredentials? credentials)
        {
            _system = system ?? throw new ArgumentNullException(nameof(system));
            Credentials = credentials;
        }

        public ICredentials? Credentials { get; set; }

        /// <summary>The system's proxy for <paramref name="destination"/>; null (a direct connection, on both runtimes) when there is none.</summary>
        public Uri? GetProxy(Uri destination) => _system()?.GetProxy(destination);

        /// <summary>No system proxy at all means a direct connection.</summary>
        public bool IsBypassed(Uri host) => !(_system() is IWebProxy proxy) || proxy.IsBypassed(host);
    }
}
