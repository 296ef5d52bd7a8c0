using System;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using NenAi.Core.Batch;
using NenAi.Core.Configuration;
using NenAi.Core.Errors;
using NenAi.Core.Http;
using NenAi.Core.Journal;
using NenAi.Core.Tests.Infrastructure;
using NenAi.Emulator;
using NenAi.TestSupport;
using Xunit;

namespace NenAi.Core.Tests
{
    /// <summary>
    /// Failures where nothing can have been sent are called so (not "outcome unknown", which would poison the
    /// journal): a TLS handshake that fails, a certificate the client refuses, a proxy that will not open a tunnel,
    /// a connect that times out. Their messages name TLS, the certificate, the proxy or the connect.
    /// </summary>
    public sealed class TransportClassificationTests : IDisposable
    {
        private readonly string _dir = Directory.CreateTempSubdirectory("nenai-transport-").FullName;

        public void Dispose() => Directory.Delete(_dir, recursive: true);

        private static NenApiClient ClientFor(Uri baseUri, Action<NenClientOptions>? configure = null)
        {
            var options = NenClientOptions.Resolve(baseUri.ToString(), TestEmulator.Secret(TestEmulator.ApiKey), TestEmulator.Secret(TestEmulator.SigningKey), environment: _ => null);
            options.MaximumRetryCount = 1;
            options.RetryBaseDelay = TimeSpan.FromMilliseconds(10);
            options.ProxyMode = ProxyMode.None;
            configure?.Invoke(options);
            return new NenApiClient(options);
        }

        private static async Task<NenTransportException> NotSent(NenApiClient client, params string[] words)
        {
            var ex = await Assert.ThrowsAsync<NenTransportException>(() => client.StartRunAsync(Requests.Echo()));
            Assert.True(ex.ProvablyNotSent, ex.Message);
            foreach (string word in words) Assert.Contains(word, ex.Message, StringComparison.OrdinalIgnoreCase);
            return ex;
        }

        [Fact]
        public async Task AFailedTlsHandshakeIsNotSent()
        {
            using var broken = FaultyEndpoint.BrokenTls();
            NenTransportException ex = await NotSent(ClientFor(broken.Uri), "TLS");
            Assert.Equal(NenErrorIds.NetworkError, ex.ErrorId);
        }

        [Fact]
        public async Task AnUntrustedCertificateIsNotSentAndSaysCertificate()
        {
            await using var emu = await TestEmulator.StartAsync(tls: new EmulatorTls(TestCertificates.Server()));
            await NotSent(ClientFor(emu.BaseUri), "TLS", "certificate");
            Assert.Equal(0, emu.State.PostRuns);
        }

        [Fact]
        public async Task AConnectThatTimesOutIsNotSent()
        {
            using var silent = FaultyEndpoint.Unconnectable();
            await NotSent(ClientFor(silent.Uri, o => { o.Timeout = TimeSpan.FromSeconds(1); o.MaximumRetryCount = 0; }), "connect");
        }

        [Theory]
        [InlineData(407, 407, true)]    // .NET 9 and later: the tunnel's status is set
        [InlineData(null, 407, true)]   // .NET 8 (PowerShell 7.4): only the message names it
        [InlineData(401, 401, true)]    // tinyproxy's answer to wrong credentials
        [InlineData(null, 401, true)]
        [InlineData(502, 502, false)]
        [InlineData(null, 502, false)]
        public void OnlyA401Or407ToTheTunnelIsRefusedProxyCredentials(int? status, int said, bool refused)
        {
            var failure = new System.Net.Http.HttpRequestException(System.Net.Http.HttpRequestError.ProxyTunnelError,
                $"The proxy tunnel request to proxy 'http://proxy.example:3128/' failed with status code '{said}'.", null, (System.Net.HttpStatusCode?)status);
            Assert.Equal(refused, TransportFailure.IsTunnelCredentialRefusal(failure));
            Assert.True(TransportFailure.IsProvablyNotSent(failure));
        }

        [Fact]
        public async Task AProxyThatWillNotOpenATunnelIsNotSentAndSaysProxy()
        {
            await using var proxy = await LoopbackProxy.StartAsync();
            using var target = FaultyEndpoint.BrokenTls();
            await NotSent(ClientFor(target.Uri, o => { o.ProxyMode = ProxyMode.Explicit; o.ProxyUri = proxy.Uri; }), "proxy");
            Assert.True(proxy.TunnelsRefused >= 1);
        }

        [Fact]
        public async Task TheJournalRecordsSuchARowAsFailedSoAReRunSendsIt()
        {
            using var broken = FaultyEndpoint.BrokenTls();
            string path = Path.Combine(_dir, "tls.jsonl");
            using (var journal = RunJournal.Open(path))
            using (var submitter = new BatchSubmitter(ClientFor(broken.Uri), 2, journal))
            {
                var outcomes = new System.Collections.Generic.List<SubmissionOutcome>();
                await foreach (var o in submitter.SubmitAllAsync(Enumerable.Range(0, 3).Select(i => Requests.KeyedEcho(i, batchId: journal.BatchId)))) outcomes.Add(o);
                Assert.All(outcomes, o => Assert.Equal(SubmissionStatus.Failed, o.Status));
            }
            using (var journal = RunJournal.Open(path))
            {
                foreach (int i in Enumerable.Range(0, 3)) Assert.Equal(JournalDecision.Submit, journal.Decide(Requests.KeyedEcho(i).RowKey!, retryUnknown: false));
            }
        }
    }
}
