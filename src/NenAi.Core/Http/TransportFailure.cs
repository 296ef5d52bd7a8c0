using System;
using System.Net;
#if NET
using System.Net.Http;
#endif
using System.Net.Sockets;
using System.Security.Authentication;

namespace NenAi.Core.Http
{
    /// <summary>Tells failures that prove a request never reached the server from ambiguous ones, and names them.</summary>
    public static class TransportFailure
    {
        /// <summary>
        /// True when no request can have reached the server: no connection was made (refused, unreachable, name
        /// not found, the connect timed out), the TLS handshake failed (nothing is sent before it completes, and a
        /// certificate the client refuses fails it), or the proxy would not open a tunnel.
        /// </summary>
        public static bool IsProvablyNotSent(Exception ex)
        {
            for (Exception? e = ex; e != null; e = e.InnerException)
            {
                switch (e)
                {
                    case NotConnectedException _:
                    case AuthenticationException _:
                        return true;
#if NET
                    case HttpRequestException h when h.HttpRequestError == HttpRequestError.NameResolutionError
                        || h.HttpRequestError == HttpRequestError.ConnectionError
                        || h.HttpRequestError == HttpRequestError.SecureConnectionError
                        || h.HttpRequestError == HttpRequestError.ProxyTunnelError:
                        return true;
#endif
                    case SocketException se when se.SocketErrorCode == SocketError.ConnectionRefused || se.SocketErrorCode == SocketError.HostNotFound
                        || se.SocketErrorCode == SocketError.HostUnreachable || se.SocketErrorCode == SocketError.NetworkUnreachable
                        || se.SocketErrorCode == SocketError.AddressNotAvailable || se.SocketErrorCode == SocketError.TryAgain:
                        return true;
                    case WebException we when we.Status == WebExceptionStatus.ConnectFailure || we.Status == WebExceptionStatus.NameResolutionFailure
                        || we.Status == WebExceptionStatus.ProxyNameResolutionFailure || we.Status == WebExceptionStatus.SecureChannelFailure
                        || we.Status == WebExceptionStatus.TrustFailure:
                        return true;
                }
            }
            return false;
        }

        /// <summary>
        /// True when a proxy refused to open an https tunnel over its credentials: 407 to the CONNECT, or 401, which
        /// tinyproxy answers to wrong ones. .NET reports it as an exception (ProxyTunnelError), while .NET Framework's
        /// HttpClientHandler hands the proxy's answer back as the response it is, so the caller can treat both alike:
        /// refused proxy credentials.
        /// </summary>
        public static bool IsTunnelCredentialRefusal(Exception ex) => TunnelStatus(ex) is 401 or 407;

        /// <summary>
        /// The status a proxy answered a tunnel request (CONNECT) with, when it would not open the tunnel; null for
        /// any other failure, or when the status is not known. .NET 9 and later set StatusCode; .NET 8 (PowerShell
        /// 7.4) only names it in the message ("... failed with status code '401'.").
        /// </summary>
        public static int? TunnelStatus(Exception ex)
        {
#if NET
            for (Exception? e = ex; e != null; e = e.InnerException)
            {
                if (e is HttpRequestException h && h.HttpRequestError == HttpRequestError.ProxyTunnelError)
                {
                    if (h.StatusCode is HttpStatusCode code) return (int)code;
                    System.Text.RegularExpressions.Match m = System.Text.RegularExpressions.Regex.Match(h.Message, @"'(\d{3})'");
                    return m.Success ? int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) : (int?)null;
                }
            }
#endif
            return null;
        }

        /// <summary>
        /// True when the failure is in making the connection itself (refused, unreachable, a name not found, a connect
        /// that timed out): through a proxy, the connection is the proxy's, so it is the proxy that cannot be reached.
        /// </summary>
        public static bool IsConnectFailure(Exception ex)
        {
            for (Exception? e = ex; e != null; e = e.InnerException)
            {
                switch (e)
                {
                    case NotConnectedException _:
                        return true;
#if NET
                    case HttpRequestException h when h.HttpRequestError == HttpRequestError.NameResolutionError || h.HttpRequestError == HttpRequestError.ConnectionError:
                        return true;
#endif
                    case SocketException se when se.SocketErrorCode == SocketError.ConnectionRefused || se.SocketErrorCode == SocketError.HostNotFound
                        || se.SocketErrorCode == SocketError.HostUnreachable || se.SocketErrorCode == SocketError.NetworkUnreachable
                        || se.SocketErrorCode == SocketError.AddressNotAvailable || se.SocketErrorCode == SocketError.TryAgain || se.SocketErrorCode == SocketError.TimedOut:
                        return true;
                    case WebException we when we.Status == WebExceptionStatus.ConnectFailure || we.Status == WebExceptionStatus.NameResolutionFailure
                        || we.Status == WebExceptionStatus.ProxyNameResolutionFailure:
                        return true;
                }
            }
            return false;
        }

        /// <summary>
        /// What went wrong for a request that went through <paramref name="proxy"/> (null: none): a connect failure is
        /// then the proxy's, and says so with the parameter to check; anything else is <see cref="Describe(Exception)"/>
        /// with the proxy named as the way the request took.
        /// </summary>
        public static string Describe(Exception ex, Uri? proxy)
        {
            if (proxy is null) return Describe(ex);
            string name = Logging.Redactor.Url(proxy);
            if (IsConnectFailure(ex))
                return $"could not connect to the proxy {name} ({ConnectReason(ex)}); check -Proxy (or the system proxy setting) and that the proxy is running";
            if (TunnelStatus(ex) is int status)
                return $"the proxy {name} would not open a tunnel to the server (HTTP {status}); check -Proxy and -ProxyCredential (or the system proxy setting)";
            return Describe(ex) + $" (through the proxy {name})";
        }

        /// <summary>Why a connect failed, in a few words: the socket error, or that it timed out.</summary>
        private static string ConnectReason(Exception ex)
        {
            for (Exception? e = ex; e != null; e = e.InnerException)
            {
                if (e is NotConnectedException nc && nc.InnerException is OperationCanceledException) return "the connect timed out";
                if (e is SocketException se) return $"{se.SocketErrorCode}: {se.Message}";
                if (e is WebException we) return we.Status.ToString();
            }
            return ex.Message;
        }

        /// <summary>
        /// What went wrong, in words that name TLS, certificates, proxies or connecting; never a URL query, user
        /// information (a proxy URL's password) or header.
        /// </summary>
        public static string Describe(Exception ex) => Logging.Redactor.Redact(DescribeUnredacted(ex));

        private static string DescribeUnredacted(Exception ex)
        {
            for (Exception? e = ex; e != null; e = e.InnerException)
            {
                if (e is AuthenticationException auth)
                    return $"the TLS handshake failed ({auth.Message}): the server's certificate was refused or no common TLS version was found; check the certificate, the TLS settings and any TLS-inspecting proxy";
#if NET
                if (e is HttpRequestException h && h.HttpRequestError == HttpRequestError.ProxyTunnelError)
                    return $"the proxy would not open a tunnel to the server ({h.Message}); check -Proxy, -ProxyCredential or the system proxy";
#endif
                if (e is WebException we)
                {
                    switch (we.Status)
                    {
                        case WebExceptionStatus.SecureChannelFailure: return "the TLS handshake failed (no common TLS version or cipher); check the TLS settings";
                        case WebExceptionStatus.TrustFailure: return "the server's TLS certificate is not trusted";
                        case WebExceptionStatus.ProxyNameResolutionFailure: return "the proxy's name could not be resolved";
                        default: return we.Status.ToString();
                    }
                }
            }
            for (Exception? e = ex; e != null; e = e.InnerException)
            {
#if NET
                if (e is HttpRequestException h)
                {
                    switch (h.HttpRequestError)
                    {
                        case HttpRequestError.NameResolutionError: return $"the server's name could not be resolved ({h.Message})";
                        case HttpRequestError.ResponseEnded: return "the server closed the connection before answering";
                        case HttpRequestError.InvalidResponse: return "the answer was not valid HTTP";
                        case HttpRequestError.HttpProtocolError: return "the connection broke an HTTP protocol rule";
                        case HttpRequestError.ConfigurationLimitExceeded: return "the answer exceeded a size limit";
                        case HttpRequestError.UserAuthenticationError: return "authentication to the server failed";
                    }
                }
#endif
                if (e is NotConnectedException nc)
                {
                    Exception? cause = nc.InnerException;
                    return cause is OperationCanceledException ? nc.Message + " in time (the connect timed out)"
                        : cause is SocketException s ? $"{nc.Message}: {s.SocketErrorCode} ({s.Message})"
                        : $"{nc.Message}: {cause?.Message}";
                }
                if (e is SocketException se) return $"{se.SocketErrorCode} ({se.Message})";
                if (e is System.IO.IOException io && !(e.InnerException is null)) continue;
                if (e is System.IO.IOException last) return $"the connection failed ({last.Message})";
            }
            return ex.GetType().Name;
        }
    }
}
