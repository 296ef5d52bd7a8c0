using System;
using System.Collections.Generic;
using System.Net.Http;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using System.Threading.Tasks;
using NenAi.Core.Configuration;
using NenAi.Core.Http;
using NenAi.Core.Logging;
using NenAi.Emulator;

namespace NenAi.TestSupport
{
    /// <summary>A real emulator on an ephemeral loopback port, one per test, with a client factory.</summary>
    public sealed class TestEmulator : IAsyncDisposable
    {
        public const string ApiKey = "test-api-key-0001";
        public const string SigningKey = "test-signing-key";
        public const string UnsignedApiKey = "test-unsigned-key-0002";
        public const string WebhookSecret = "whsec-test";
        public const string EchoWorkflow = "11111111-1111-1111-1111-111111111111";
        public const string SecureWorkflow = "22222222-2222-2222-2222-222222222222";
        public const string FilesWorkflow = "33333333-3333-3333-3333-333333333333";
        public const string SlowWorkflow = "44444444-4444-4444-4444-444444444444";

        // The admin API is reached over loopback; an HTTPS emulator's certificate is its own, so it is not checked here.
        private static readonly HttpClient Admin = new HttpClient(new SocketsHttpHandler { SslOptions = { RemoteCertificateValidationCallback = (_, _, _, _) => true } });

        private TestEmulator(EmulatorServer server) => Server = server;

        public EmulatorServer Server { get; }
        public EmulatorState State => Server.State;
        public Uri BaseUri => Server.BaseUri;

        public static EmulatorConfig DefaultConfig()
        {
            return new EmulatorConfig
            {
                ApiKeys =
                {
                    new ApiKeyConfig { Name = "signed", Key = ApiKey, SigningKey = SigningKey },
                    new ApiKeyConfig { Name = "unsigned", Key = UnsignedApiKey },
                },
                WebhookSecret = WebhookSecret,
                Workflows =
                {
                    new WorkflowConfig
                    {
                        Id = EchoWorkflow, Name = "echo", QueuedMs = 0, DurationMs = 50, ExtraParams = "ignore",
                        Params = { ["NAME"] = new ParamSpec { Type = "string", Required = false, MaxLength = 2_000_000 }, ["COUNT"] = new ParamSpec { Type = "integer" }, ["FLAG"] = new ParamSpec { Type = "boolean" } },
                        FailWhen = { new FailRule { Param = "NAME", EqualsValue = "FAIL", Message = "The echo workflow was asked to fail." } },
                        Result = new JsonObject { ["ok"] = true },
                    },
                    new WorkflowConfig
                    {
                        Id = SecureWorkflow, Name = "secure", QueuedMs = 0, DurationMs = 50,
                        Params = { ["USER"] = new ParamSpec { Type = "string", Required = true } },
                        SecureParams = { ["password"] = new SecureParamSpec { Required = true, MinLength = 8 } },
                    },
                    new WorkflowConfig
                    {
                        Id = FilesWorkflow, Name = "files", QueuedMs = 0, DurationMs = 20, ExtraParams = "ignore",
                        Files =
                        {
                            new FileSpec { Name = "report.txt", Content = "report for {message_id}", ContentType = "text/plain" },
                            new FileSpec { Name = "data.bin", SizeBytes = 300_000 },
                        },
                        // A failed run leaves its log to download (spec §11 Q3).
                        FailWhen = { new FailRule { Param = "NAME", EqualsValue = "FAIL", Message = "The files workflow was asked to fail." } },
                        FailedFiles = { new FileSpec { Name = "error.log", Content = "run {message_id} failed: {error}", ContentType = "text/plain" } },
                    },
                    new WorkflowConfig { Id = SlowWorkflow, Name = "slow", QueuedMs = 0, DurationMs = 600_000, ExtraParams = "ignore" },
                },
            };
        }

        public static async Task<TestEmulator> StartAsync(Action<EmulatorConfig>? configure = null, EmulatorTls? tls = null)
        {
            EmulatorConfig config = DefaultConfig();
            configure?.Invoke(config);
            return new TestEmulator(await EmulatorServer.StartAsync(config, tls: tls));
        }

        public NenApiClient Client(Action<NenClientOptions>? configure = null, INenLog? log = null, bool signed = true, string? apiKey = null, string? signingKey = null, Func<DateTimeOffset>? clock = null)
        {
            var options = NenClientOptions.Resolve(
                baseUrl: BaseUri.ToString(),
                apiKey: Secret(apiKey ?? (signed ? ApiKey : UnsignedApiKey)),
                signingKey: signed || signingKey != null ? Secret(signingKey ?? SigningKey) : null,
                environment: _ => null);
            options.RetryBaseDelay = TimeSpan.FromMilliseconds(20);
            configure?.Invoke(options);
            return new NenApiClient(options, log, clock);
        }

        public static SecretValue Secret(string value) => SecretValue.FromChars(value.AsSpan());

        /// <summary>Scripts a fault for the next matching requests through the emulator's HTTP admin API.</summary>
        public Task ScriptAsync(ScriptedFault fault) =>
            PostAdminAsync("_emulator/faults/next", fault);

        public Task SetFaultsAsync(FaultSettings faults) =>
            PostAdminAsync("_emulator/faults", faults);

        /// <summary>Scripts what happens to particular runs' webhooks (by message id, or the next runs accepted).</summary>
        public Task ScriptWebhooksAsync(ScriptedWebhookFault fault) =>
            PostAdminAsync("_emulator/webhooks/next", fault);

        /// <summary>Replaces the webhook delivery settings (rates of drops, duplicates, delays, reordering; retries).</summary>
        public Task SetWebhooksAsync(WebhookConfig webhooks) =>
            PostAdminAsync("_emulator/webhooks", webhooks);

        /// <summary>Posts <paramref name="body"/> as JSON to an admin endpoint of the emulator (its own options).</summary>
        private async Task PostAdminAsync<T>(string path, T body)
        {
            using var r = await Admin.PostAsJsonAsync(new Uri(BaseUri, path), body, EmulatorConfig.JsonOptions);
            r.EnsureSuccessStatusCode();
        }

        public async Task AdvanceClockAsync(double seconds)
        {
            using var r = await Admin.PostAsync(new Uri(BaseUri, $"_emulator/clock/advance?seconds={seconds}"), null);
            r.EnsureSuccessStatusCode();
        }

        public ValueTask DisposeAsync() => Server.DisposeAsync();
    }
}
