using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using NenAi.TestSupport;
using NenAi.Core.Batch;
using NenAi.Core.Configuration;
using NenAi.Core.Downloads;
using NenAi.Core.Errors;
using NenAi.Core.Http;
using NenAi.Core.Journal;
using NenAi.Core.Logging;
using NenAi.Core.Models;
using NenAi.Core.Rows;
using NenAi.Core.Signing;
using NenAi.Core.Tests.Infrastructure;
using NenAi.Core.Waiting;
using NenAi.Emulator;
using Xunit;
using Xunit.Abstractions;

namespace NenAi.Core.Tests
{
    /// <summary>
    /// Canary secrets (API key, signing key, webhook secret, secure-param value) are pushed through success
    /// and every failure path; none may appear in a log line, an exception, a ToString() or the journal.
    /// Presigned query strings must not be logged either.
    /// </summary>
    public sealed class SecretsCanaryTests : IDisposable
    {
        private const string CanaryApiKey = "canary-apikey-7f3e9a";
        private const string CanarySigningKey = "canary-signing-51c2d8";
        private const string CanaryWebhookSecret = "canary-webhook-0b7e44";
        private const string CanarySecureValue = "canary-password-99ad1e";
        private static readonly string[] Canaries = { CanaryApiKey, CanarySigningKey, CanaryWebhookSecret, CanarySecureValue, "canary" };
        private readonly string _dir = Directory.CreateTempSubdirectory("nenai-secrets-").FullName;
        private readonly ITestOutputHelper _output;

        public SecretsCanaryTests(ITestOutputHelper output) => _output = output;

        public void Dispose() => Directory.Delete(_dir, recursive: true);

        [Fact]
        public async Task NoCanaryAppearsAnywhere()
        {
            await using var emu = await TestEmulator.StartAsync(c =>
            {
                c.ApiKeys.Add(new ApiKeyConfig { Name = "canary", Key = CanaryApiKey, SigningKey = CanarySigningKey });
                c.WebhookSecret = CanaryWebhookSecret;
            });
            var log = new CapturingLog();
            var texts = new List<string>();
            void Keep(object? o) { if (o != null) texts.Add(o is Exception e ? e.ToString() + "\n" + e.Message : o.ToString() ?? string.Empty); }

            var options = NenClientOptions.Resolve(emu.BaseUri.ToString(), TestEmulator.Secret(CanaryApiKey), TestEmulator.Secret(CanarySigningKey), TestEmulator.Secret(CanaryWebhookSecret), environment: _ => null);
            options.RetryBaseDelay = TimeSpan.FromMilliseconds(5);
            Keep(options);
            var client = new NenApiClient(options, log);

            RunRequest Secure(string password)
            {
                var r = new RunRequest(TestEmulator.SecureWorkflow);
                r.Parameters.Add(new("USER", "jane"));
                r.SecureParameters.Add(new("password", TestEmulator.Secret(password)));
                r.RowKey = RowKey.FromColumn("Id", Guid.NewGuid());
                return r;
            }

            // Success, server-side validation failure (short secret), 500 after accept, resets, 429s.
            await emu.ScriptAsync(new ScriptedFault { Kind = "500-after-accept", Route = "POST /runs", Count = 1 });
            await emu.ScriptAsync(new ScriptedFault { Kind = "reset", Route = "POST /runs", Count = 1 });
            await emu.ScriptAsync(new ScriptedFault { Kind = "429", Route = "POST /runs", Count = 1, RetryAfterSeconds = 0 });
            var rows = new List<RunRequest> { Secure(CanarySecureValue), Secure(CanarySecureValue), Secure(CanarySecureValue), Secure("canary"), Secure(CanarySecureValue), Secure(CanarySecureValue + "\ud800") };
            using (var journal = RunJournal.Open(Path.Combine(_dir, "j.jsonl")))
            using (var submitter = new BatchSubmitter(client, 2, journal))
            {
                await foreach (var o in submitter.SubmitAllAsync(rows)) { Keep(o); Keep(o.Error); Keep(o.Run); Keep(o.Run?.RawJson); }
            }

            // Wrong key, wrong signing key, unsigned secure params.
            foreach (var bad in new[]
            {
                new NenApiClient(NenClientOptions.Resolve(emu.BaseUri.ToString(), TestEmulator.Secret(CanaryApiKey + "x"), environment: _ => null), log),
                new NenApiClient(NenClientOptions.Resolve(emu.BaseUri.ToString(), TestEmulator.Secret(CanaryApiKey), TestEmulator.Secret(CanarySigningKey + "x"), environment: _ => null), log),
                new NenApiClient(NenClientOptions.Resolve(emu.BaseUri.ToString(), TestEmulator.Secret(CanaryApiKey), environment: _ => null), log),
            })
            {
                try { await bad.StartRunAsync(Secure(CanarySecureValue)); }
                catch (NenException ex) { Keep(ex); }
            }

            // Wait and download: presigned URLs pass through logs.
            var ids = emu.State.Ledger.Select(l => l.MessageId).ToList();
            using (var waiter = new RunWaiter(client, new RunWaiterOptions { PollInterval = TimeSpan.FromMilliseconds(20), Timeout = TimeSpan.FromSeconds(20) }, log))
            {
                await foreach (var o in waiter.WaitAllAsync(ids))
                {
                    Keep(o); Keep(o.Status); Keep(o.Error);
                    if (o.Status?.IsTerminal == true)
                    {
                        var result = await new ResultDownloader(client, new ResultDownloadOptions(_dir), log).DownloadAsync(o.Status);
                        foreach (var f in result.Files) Keep(f);
                        foreach (var e in result.Errors) Keep(e);
                    }
                }
            }

            // Webhook verification reasons.
            using SecretValue hookSecret = TestEmulator.Secret(CanaryWebhookSecret);
            Keep(WebhookSignature.Verify(new byte[] { 1 }, "sha256=00", new[] { hookSecret }).Reason);
            Keep(hookSecret);

            texts.AddRange(log.Lines);
            texts.Add(File.ReadAllText(Path.Combine(_dir, "j.jsonl")));
            foreach (string path in Directory.GetFiles(_dir, "*", SearchOption.AllDirectories)) texts.Add(File.ReadAllText(path));

            Assert.True(log.Lines.Count > 20, "the scenario must actually log");
            Assert.Contains(log.Lines, l => l.Contains("/files/"));
            foreach (string text in texts)
            {
                foreach (string canary in Canaries) Assert.DoesNotContain(canary, text);
                Assert.DoesNotContain("sig=", text);
            }
            _output.WriteLine($"checked {texts.Count} texts, {log.Lines.Count} log lines");
        }

        [Theory]
        [InlineData("x-api-key: abc123", "x-api-key: ***")]
        [InlineData("GET https://s3.example.test/a/b.zip?X-Amz-Signature=deadbeef&x=1 done", "GET https://s3.example.test/a/b.zip?*** done")]
        [InlineData("header X-Hmac-Signature=sha256=0123abcd", "header X-Hmac-Signature=***")]
        [InlineData("token: 'quoted value'", "token: ***")]
        [InlineData("sig 69a6a4f1375b0a18eed69bddbea9e5051e3594721491e3330c43cf0acfd339b2", "sig ***")]
        public void RedactorMasksCredentialsAndQueryStrings(string input, string expected)
        {
            Assert.Equal(expected, Redactor.Redact(input));
        }
    }
}
