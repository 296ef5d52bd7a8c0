using System;
using System.Net;
using System.Net.Sockets;

namespace NenAi.Core.Http
{
    /// <summary>Tells failures that prove a request never reached the server from ambiguous ones.</summary>
    public static class TransportFailure
    {
        /// <summary>
        /// True when no connection was made (refused, no route, name not found): the server cannot have
        /// seen the request, so even a POST may be retried.
        /// </summary>
        public static bool IsProvablyNotSent(Exception ex)
        {
            for (Exception? e = ex; e != null; e = e.InnerException)
            {
                if (e is SocketException se)
                {
                    switch (se.SocketErrorCode)
                    {
                        case SocketError.ConnectionRefused:
                        case SocketError.HostNotFound:
                        case SocketError.HostUnreachable:
                        case SocketError.NetworkUnreachable:
                        case SocketError.AddressNotAvailable:
                        case SocketError.TryAgain:
                            return true;
                    }
                }
                if (e is WebException we &&
                    (we.Status == WebExceptionStatus.ConnectFailure || we.Status == WebExceptionStatus.NameResolutionFailure ||
                     we.Status == WebExceptionStatus.ProxyNameResolutionFailure))
                {
                    return true;
                }
            }
            return false;
        }

        /// <summary>A short description without any URL query or header (safe to show).</summary>
        public static string Describe(Exception ex)
        {
            for (Exception? e = ex; e != null; e = e.InnerException)
            {
                if (e is SocketException se) return $"{se.SocketErrorCode} ({se.Message})";
                if (e is WebException we) return we.Status.ToString();
            }
            return ex.GetType().Name;
        }
    }
}
