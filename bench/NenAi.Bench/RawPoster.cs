using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Threading;
using System.Threading.Tasks;

namespace NenAi.Bench
{
    /// <summary>The baseline: plain HttpClient posting ready-made bodies at a fixed concurrency, nothing else.</summary>
    public static class RawPoster
    {
        /// <summary>Posts every body once; returns runs per second.</summary>
        public static async Task<double> PostAllAsync(Uri runsUri, IReadOnlyList<byte[]> bodies, int concurrency, string apiKey)
        {
            using var raw = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = concurrency });
            var gate = new SemaphoreSlim(concurrency);
            var sw = Stopwatch.StartNew();
            await Task.WhenAll(bodies.Select(async body =>
            {
                await gate.WaitAsync();
                try
                {
                    using var request = new HttpRequestMessage(HttpMethod.Post, runsUri) { Content = new ByteArrayContent(body) };
                    request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                    request.Headers.Add("x-api-key", apiKey);
                    using var response = await raw.SendAsync(request);
                    response.EnsureSuccessStatusCode();
                }
                finally { gate.Release(); }
            }));
            return bodies.Count / sw.Elapsed.TotalSeconds;
        }

        /// <summary>Invoke-RestMethod without -WebSession: a new client, so a new connection, per call, one at a time.</summary>
        public static async Task<double> PostSequentiallyAsync(Uri runsUri, IReadOnlyList<byte[]> bodies, int count, string apiKey)
        {
            var sw = Stopwatch.StartNew();
            for (int i = 0; i < count; i++)
            {
                using var once = new HttpClient(new SocketsHttpHandler());
                using var request = new HttpRequestMessage(HttpMethod.Post, runsUri) { Content = new ByteArrayContent(bodies[i]) };
                request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                request.Headers.Add("x-api-key", apiKey);
                using var response = await once.SendAsync(request);
                response.EnsureSuccessStatusCode();
            }
            return count / sw.Elapsed.TotalSeconds;
        }
    }
}
