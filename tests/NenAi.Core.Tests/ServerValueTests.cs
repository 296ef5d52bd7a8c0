using System;
using System.Diagnostics;
using System.Linq;
using System.Threading.Tasks;
using NenAi.Core.Errors;
using NenAi.Core.Http;
using NenAi.Core.Models;
using NenAi.Core.Tests.Infrastructure;
using NenAi.Emulator;
using NenAi.TestSupport;
using Xunit;

namespace NenAi.Core.Tests
{
    /// <summary>Values from the server are parsed defensively: a bad one is a typed error or a safe default, never a hang.</summary>
    public class ServerValueTests
    {
        [Theory]
        [InlineData("1e20", null)]        // beyond any budget: a day, which ends the retries at once
        [InlineData("NaN", 0.0)]          // ignored: back-off
        [InlineData("Infinity", 0.0)]
        [InlineData("-5", 0.0)]
        [InlineData("soon", 0.0)]
        [InlineData("Fri, 31 Dec 9999 23:59:59 GMT", null)]
        public async Task AnUnreadableRetryAfterIsATypedErrorOrABackOff(string value, double? thenSucceeds)
        {
            await using var emu = await TestEmulator.StartAsync();
            var client = emu.Client(o => o.RetryBaseDelay = TimeSpan.FromMilliseconds(10));
            await emu.ScriptAsync(new ScriptedFault { Kind = "429", Route = "POST /runs", Count = 1, RetryAfterText = value });
            var clock = Stopwatch.StartNew();

            if (thenSucceeds.HasValue)
            {
                RunAccepted run = await client.StartRunAsync(Requests.Echo());
                Assert.False(string.IsNullOrEmpty(run.MessageId));
            }
            else
            {
                var ex = await Assert.ThrowsAsync<NenException>(() => client.StartRunAsync(Requests.Echo()));
                Assert.Equal(NenErrorIds.RateLimited, ex.ErrorId);
                Assert.Empty(emu.State.Ledger);
            }
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed.TotalSeconds:0.0} s");
        }

        [Theory]
        [InlineData("1e30")]
        [InlineData("9223372036854775807")]
        [InlineData("-99999999999999")]
        [InlineData("\"the year ten thousand\"")]
        [InlineData("{}")]
        public void AnUnreadableExpiresAtMeansNoExpiry(string value)
        {
            RunSnapshot status = RunSnapshot.Parse($"{{\"message_id\":\"m\",\"status\":\"success\",\"expires_at\":{value},\"results\":[{{\"name\":\"a\",\"url\":\"https://x.test/a\",\"size\":-3}}]}}", null, DateTimeOffset.UtcNow);

            Assert.Null(status.ExpiresAt);
            Assert.Null(Assert.Single(status.Results).Size);
        }

        [Fact]
        public async Task AStatusWithAnUnreadableBodyIsATypedErrorAtOnce()
        {
            await using var emu = await TestEmulator.StartAsync();
            var client = emu.Client();
            // Asked once more before it is the call's own error (a page every request meets is the circuit's): both pages.
            await emu.ScriptAsync(new ScriptedFault { Kind = "raw", Route = "GET /runs", Count = 2, StatusCode = 200, Body = "<html>maintenance</html>" });

            var ex = await Assert.ThrowsAsync<NenException>(() => client.GetRunAsync(Guid.NewGuid().ToString()));

            Assert.Equal(NenErrorIds.UnexpectedResponse, ex.ErrorId);
            Assert.False(ex.IsTransient);
        }
    }

    /// <summary>A server that quotes an input value back (secure values included) does not leak it: the client scrubs what it sent.</summary>
    public class ServerTextScrubbingTests
    {
        private const string Password = "canary-password-4f19c2aa";

        [Fact]
        public async Task ASecureValueQuotedInA422IsScrubbedAndTheRestOfTheMessageKept()
        {
            await using var emu = await TestEmulator.StartAsync(c => c.EchoInputInErrors = true);
            var request = new RunRequest(TestEmulator.SecureWorkflow);
            request.Parameters.Add(new("USER", 42));
            request.SecureParameters.Add(new("password", TestEmulator.Secret("short")));
            var longRequest = new RunRequest(TestEmulator.SecureWorkflow);
            longRequest.Parameters.Add(new("USER", "jane"));
            longRequest.SecureParameters.Add(new("password", TestEmulator.Secret(Password)));

            var quoted = await Assert.ThrowsAsync<NenException>(() => emu.Client().StartRunAsync(request));
            var fine = await emu.Client().StartRunAsync(longRequest);

            Assert.Equal(NenErrorIds.InvalidWorkflowParams, quoted.ErrorId);
            string everything = quoted.Message + quoted.ServerMessage + string.Join(";", quoted.Details.Select(d => d.Key + d.Value)) + quoted;
            Assert.DoesNotContain("'short'", everything);
            Assert.Contains("should have at least 8 characters", everything); // the server's words are not mangled
            Assert.Contains("got '42'", everything);                         // nor its quote of a non-secret value
            Assert.NotNull(fine);
        }

        [Fact]
        public async Task AKeyEchoedInAnErrorBodyIsScrubbed()
        {
            await using var emu = await TestEmulator.StartAsync();
            await emu.ScriptAsync(new ScriptedFault
            {
                Kind = "raw", Route = "POST /runs", Count = 1, StatusCode = 400,
                Body = $"{{\"error\":\"Invalid request\",\"message\":\"bad key {TestEmulator.ApiKey} signed with {TestEmulator.SigningKey}\",\"details\":[{{\"field\":\"password\",\"problem\":\"{Password} is weak\"}}]}}",
            });
            var request = Requests.Echo();
            request.SecureParameters.Add(new("password", TestEmulator.Secret(Password)));

            var ex = await Assert.ThrowsAsync<NenException>(() => emu.Client().StartRunAsync(request));

            string everything = ex.ToString() + ex.ServerMessage + string.Join(";", ex.Details.Select(d => d.Key + d.Value));
            foreach (string secret in new[] { TestEmulator.ApiKey, TestEmulator.SigningKey, Password }) Assert.DoesNotContain(secret, everything);
            Assert.Contains("bad key ***", everything);
            Assert.Contains("*** is weak", everything);
        }
    }
}
