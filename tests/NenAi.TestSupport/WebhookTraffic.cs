using System;
using System.IO;
using System.Net;
using System.Net.Http;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using NenAi.Core.Signing;

namespace NenAi.TestSupport
{
    /// <summary>What a webhook receiver gets from the outside, well-behaved or not: signed posts, forged ones, raw sockets.</summary>
    public static class WebhookTraffic
    {
        private static readonly HttpClient Http = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(30) };

        /// <summary>A loopback port nothing listens on right now.</summary>
        public static int FreePort()
        {
            var probe = new TcpListener(IPAddress.Loopback, 0);
            probe.Start();
            int port = ((IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
            return port;
        }

        public static string Prefix(int port) => $"http://127.0.0.1:{port}/nen/";

        /// <summary>A spec §6.3 payload.</summary>
        public static string Body(string messageId, string status) =>
            "{\"workflow_id\":\"" + TestEmulator.EchoWorkflow + "\",\"message_id\":\"" + messageId + "\",\"status\":\"" + status + "\",\"expires_at\":1730319600}";

        public static string Sign(string secret, string body) => WebhookSignature.Compute(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(body));

        /// <summary>POSTs <paramref name="body"/> with <paramref name="signature"/> (none when null) and returns the answer's status.</summary>
        public static async Task<HttpStatusCode> PostAsync(string url, string body, string? signature, HttpMethod? method = null)
        {
            using var request = new HttpRequestMessage(method ?? HttpMethod.Post, url) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
            if (signature != null) request.Headers.TryAddWithoutValidation(WebhookSignature.HeaderName, signature);
            using HttpResponseMessage response = await Http.SendAsync(request);
            return response.StatusCode;
        }

        public static Task<HttpStatusCode> PostSignedAsync(string url, string secret, string messageId, string status)
        {
            string body = Body(messageId, status);
            return PostAsync(url, body, Sign(secret, body));
        }

        /// <summary>Opens a connection and sends <paramref name="head"/> (request line and headers) plus <paramref name="bodyBytes"/> zero bytes, then nothing more.</summary>
        public static async Task<TcpClient> SendPartialAsync(int port, string head, int bodyBytes = 0)
        {
            var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, port);
            NetworkStream stream = client.GetStream();
            byte[] bytes = Encoding.ASCII.GetBytes(head);
            await stream.WriteAsync(bytes, 0, bytes.Length);
            if (bodyBytes > 0) await stream.WriteAsync(new byte[bodyBytes], 0, bodyBytes);
            await stream.FlushAsync();
            return client;
        }

        /// <summary>A POST's head declaring <paramref name="contentLength"/> bytes of body.</summary>
        public static string PostHead(int port, long contentLength) =>
            $"POST /nen/ HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\nContent-Length: {contentLength}\r\n\r\n";

        /// <summary>The first line of the answer on <paramref name="client"/> ("HTTP/1.1 413 ..."), or null when the server closed the connection without one.</summary>
        public static async Task<string?> ReadStatusLineAsync(TcpClient client, TimeSpan within)
        {
            using var timeout = new CancellationTokenSource(within);
            var buffer = new byte[4096];
            var text = new StringBuilder();
            NetworkStream stream = client.GetStream();
            try
            {
                while (true)
                {
                    int n = await stream.ReadAsync(buffer.AsMemory(), timeout.Token);
                    if (n == 0) break;
                    text.Append(Encoding.ASCII.GetString(buffer, 0, n));
                    int end = text.ToString().IndexOf("\r\n", StringComparison.Ordinal);
                    if (end >= 0) return text.ToString(0, end);
                }
            }
            catch (IOException) { }
            return text.Length == 0 ? null : text.ToString();
        }

        /// <summary>True when a fresh HttpListener can take <paramref name="prefix"/> right now (the port is free).</summary>
        public static bool CanListen(string prefix)
        {
            var listener = new HttpListener();
            listener.Prefixes.Add(prefix);
            try
            {
                listener.Start();
                return true;
            }
            catch (HttpListenerException)
            {
                return false;
            }
            finally
            {
                listener.Close();
            }
        }
    }
}
