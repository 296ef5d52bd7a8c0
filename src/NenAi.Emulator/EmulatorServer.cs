using System;
using System.Linq;
using System.Net;
using System.Text.Json;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace NenAi.Emulator
{
    /// <summary>
    /// Hosts the emulator on Kestrel. Used by Program (the documented command) and, in-process on an
    /// ephemeral loopback port, by the tests and benchmarks.
    /// </summary>
    public sealed class EmulatorServer : IAsyncDisposable
    {
        private readonly WebApplication _app;

        private EmulatorServer(WebApplication app, EmulatorState state, Uri baseUri)
        {
            _app = app;
            State = state;
            BaseUri = baseUri;
        }

        public EmulatorState State { get; }
        /// <summary>The listening address, e.g. http://127.0.0.1:41234/.</summary>
        public Uri BaseUri { get; }

        /// <param name="url">Where to listen; port 0 picks a free port.</param>
        /// <param name="allowRemote">Bind addresses other than loopback (off by default: the emulator has demo keys).</param>
        /// <param name="tls">Serve HTTPS with this certificate (tests of certificate checks and client certificates).</param>
        public static async Task<EmulatorServer> StartAsync(EmulatorConfig config, string url = "http://127.0.0.1:0", bool allowRemote = false, bool requestLog = false, string[]? args = null,
            EmulatorTls? tls = null)
        {
            var listen = new Uri(url);
            if (!allowRemote && !IsLoopback(listen.Host))
                throw new ArgumentException($"Refusing to listen on '{listen.Host}': the emulator binds loopback only unless --allow-remote is given.");

            var builder = WebApplication.CreateSlimBuilder(args ?? Array.Empty<string>());
            builder.Logging.ClearProviders();
            if (requestLog) builder.Logging.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Information)
                .AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
            if (tls is null) builder.WebHost.UseUrls(url);
            builder.WebHost.ConfigureKestrel(k =>
            {
                k.Limits.MaxRequestBodySize = null; // the API answers 413 itself, in the spec's error shape
                k.AddServerHeader = false;
                if (tls != null)
                {
                    k.Listen(IPAddress.Loopback, listen.Port, o => o.UseHttps(https =>
                    {
                        https.ServerCertificate = tls.Certificate;
                        if (tls.RequireClientCertificate)
                        {
                            https.ClientCertificateMode = Microsoft.AspNetCore.Server.Kestrel.Https.ClientCertificateMode.RequireCertificate;
                            https.ClientCertificateValidation = (_, _, _) => true; // tests check which one came
                        }
                    }));
                }
            });
            var app = builder.Build();
            var state = new EmulatorState(config);
            var api = new RunsApi(state);
            string publicBase = url; // replaced by the bound address once listening (port 0)
            api.UseWebhooks(new WebhookDispatcher(state, (run, status) => api.StatusJson(run, status, publicBase), app.Lifetime.ApplicationStopping));
            var log = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("NenAi.Emulator");

            app.Use(async (ctx, next) =>
            {
                using IDisposable _ = state.EnterRequest();
                if (ctx.Connection.ClientCertificate is { } clientCertificate) state.CountClientCertificate(clientCertificate.Thumbprint);
                await next();
            });
            if (requestLog)
            {
                app.Use(async (ctx, next) =>
                {
                    await next();
                    // Never the query string: presigned URLs carry their signature there.
                    log.LogInformation("{Method} {Path} → {Status}", ctx.Request.Method, ctx.Request.Path, ctx.Response.StatusCode);
                });
            }

            app.MapPost("/runs", api.PostRunsAsync);
            app.MapGet("/runs/{messageId}", (HttpContext ctx, string messageId) => api.GetRunAsync(ctx, messageId));
            app.MapGet("/files/{messageId}/{index:int}", (HttpContext ctx, string messageId, int index) => api.DownloadAsync(ctx, messageId, index));
            app.MapGet("/health", () => Results.Json(new { status = "ok" }));
            MapAdmin(app, state);

            await app.StartAsync();
            string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            address = address.Replace("[::]", "127.0.0.1").Replace("0.0.0.0", "127.0.0.1").Replace("localhost", "127.0.0.1");
            publicBase = address.TrimEnd('/');
            return new EmulatorServer(app, state, new Uri(address.TrimEnd('/') + "/"));
        }

        /// <summary>Test and benchmark controls; loopback only, like the emulator itself.</summary>
        private static void MapAdmin(WebApplication app, EmulatorState state)
        {
            app.MapGet("/_emulator/ledger", (bool? runs) => Results.Json(state.Snapshot(runs ?? true), EmulatorConfig.JsonOptions));
            MapJsonPost<FaultSettings>(app, "/_emulator/faults", settings => state.Faults.Replace(settings ?? new FaultSettings()));
            MapJsonPost<ScriptedFault>(app, "/_emulator/faults/next", fault => { if (fault != null) state.Faults.Script(fault); });
            // Webhook delivery faults: the settings replace the configuration's "webhooks" (rates, retries, delays);
            // /next scripts what happens to particular runs (by messageId, or the next Count runs accepted).
            MapJsonPost<WebhookConfig>(app, "/_emulator/webhooks", settings => state.WebhookFaults.Replace(settings ?? new WebhookConfig()));
            MapJsonPost<ScriptedWebhookFault>(app, "/_emulator/webhooks/next", fault => { if (fault != null) state.WebhookFaults.Script(fault); });
            app.MapPost("/_emulator/faults/clear", () => { state.Faults.Clear(); return Results.NoContent(); });
            app.MapPost("/_emulator/keys/{name}/revoke", (string name) => { state.RevokeKey(name); return Results.NoContent(); });
            app.MapPost("/_emulator/keys/{name}/restore", (string name) => { state.RestoreKey(name); return Results.NoContent(); });
            app.MapPost("/_emulator/clock/advance", (double seconds) =>
            {
                state.AdvanceClock(TimeSpan.FromSeconds(seconds));
                return Results.Json(new { now = state.Now });
            });
            app.MapPost("/_emulator/reset", () => { state.Reset(); return Results.NoContent(); });
        }

        /// <summary>An admin endpoint that takes one JSON object (null when the body is "null") and answers 204.</summary>
        private static void MapJsonPost<T>(WebApplication app, string path, Action<T?> apply) where T : class =>
            app.MapPost(path, async (HttpContext ctx) =>
            {
                apply(await JsonSerializer.DeserializeAsync<T>(ctx.Request.Body, EmulatorConfig.JsonOptions));
                return Results.NoContent();
            });

        private static bool IsLoopback(string host) =>
            host == "localhost" || (IPAddress.TryParse(host.Trim('[', ']'), out IPAddress? ip) && IPAddress.IsLoopback(ip));

        public Task WaitForShutdownAsync() => _app.WaitForShutdownAsync();

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }
}
