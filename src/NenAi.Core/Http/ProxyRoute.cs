using System;
using System.Net;
using NenAi.Core.Configuration;

namespace NenAi.Core.Http
{
    /// <summary>
    /// Which proxy a request goes through, asked of the same proxy object the handler uses (an explicit -Proxy, the
    /// system proxy, or none), so a failure to connect, or a refusal, can be told as the proxy's rather than the
    /// service's. Each framework's own bypass rules apply (.NET Framework never sends loopback through a proxy).
    /// </summary>
    public sealed class ProxyRoute
    {
        private readonly bool _useProxy;
        private readonly IWebProxy? _proxy;
        private readonly Func<IWebProxy?> _systemProxy;

        private ProxyRoute(bool useProxy, IWebProxy? proxy, Func<IWebProxy?> systemProxy)
        {
            _useProxy = useProxy;
            _proxy = proxy;
            _systemProxy = systemProxy;
        }

        /// <param name="systemProxy">The process's default proxy (HttpClient.DefaultProxy, or WebRequest.DefaultWebProxy on .NET Framework).</param>
        public static ProxyRoute For(NenClientOptions options, Func<IWebProxy?> systemProxy)
        {
            ProxyChoice choice = ProxyChoice.For(options, systemProxy);
            return new ProxyRoute(choice.UseProxy, choice.Proxy, systemProxy);
        }

        /// <summary>The proxy a request to <paramref name="uri"/> goes through; null when it goes directly (or that cannot be told).</summary>
        public Uri? Of(Uri uri)
        {
            if (!_useProxy) return null;
            try
            {
                IWebProxy? proxy = _proxy ?? _systemProxy();
                if (proxy is null || proxy.IsBypassed(uri)) return null;
                Uri? through = proxy.GetProxy(uri);
                return through is null || through == uri ? null : through;
            }
            catch (Exception ex) when (ex is InvalidOperationException || ex is NotSupportedException || ex is System.ComponentModel.Win32Exception || ex is WebException || ex is PlatformNotSupportedException)
            {
                return null; // a proxy script that fails here fails for the request too, which says so itself
            }
        }
    }
}
