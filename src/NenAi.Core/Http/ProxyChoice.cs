using System;
using System.Net;
using NenAi.Core.Configuration;

namespace NenAi.Core.Http
{
    /// <summary>
    /// How a handler of either edition reaches the network. Credentials for the system proxy go on a proxy object of
    /// the handler's own (<see cref="SystemProxyWithCredentials"/>), never through DefaultProxyCredentials, which on
    /// .NET Framework writes them onto the process-wide WebRequest.DefaultWebProxy.
    /// </summary>
    public readonly struct ProxyChoice
    {
        private ProxyChoice(bool useProxy, IWebProxy? proxy)
        {
            UseProxy = useProxy;
            Proxy = proxy;
        }

        public bool UseProxy { get; }
        /// <summary>The handler's proxy; null leaves the handler on the system proxy as it is.</summary>
        public IWebProxy? Proxy { get; }

        /// <param name="systemProxy">Reads the process's default proxy when a request is made.</param>
        public static ProxyChoice For(NenClientOptions options, Func<IWebProxy?> systemProxy)
        {
            ICredentials? credentials = options.ProxyUseDefaultCredentials ? CredentialCache.DefaultCredentials : options.ProxyCredential;
            switch (options.ProxyMode)
            {
                case ProxyMode.None:
                    return new ProxyChoice(false, null);
                case ProxyMode.Explicit when options.ProxyUri != null:
                    // Credentials alone: WebProxy.UseDefaultCredentials = false would clear them.
                    return new ProxyChoice(true, new WebProxy(options.ProxyUri) { Credentials = credentials });
                default:
                    return new ProxyChoice(true, credentials is null ? null : new SystemProxyWithCredentials(systemProxy, credentials));
            }
        }
    }
}
