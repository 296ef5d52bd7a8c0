using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Threading.Tasks;
using NenAi.TestSupport;
using NenAi.Core.Configuration;
using NenAi.Core.Errors;
using NenAi.Core.Http;
using NenAi.Core.Models;
using NenAi.Core.Tests.Infrastructure;
using NenAi.Emulator;
using Xunit;

namespace NenAi.Core.Tests
{
    /// <summary>Every row of spec §11's error table, over real HTTP, reaches the caller as its typed error.</summary>
    public class ErrorTableTests
    {
        [Fact]
        public async Task AcceptedRunCarriesTheCamelCaseReply()
        {
            await using var emu = await TestEmulator.StartAsync();
            RunAccepted run = await emu.Client().StartRunAsync(Requests.Echo());
            Assert.True(Guid.TryParse(run.MessageId, out _));
            Assert.Equal(TestEmulator.EchoWorkflow, run.WorkflowId);
            Assert.Equal("Job accepted for processing.", run.Message);
            Assert.Contains("\"messageId\"", run.RawJson);
            Assert.Single(emu.State.Ledger);
            Assert.Equal("Ada", emu.State.Ledger[0].Params["NAME"]!.GetValue<string>());
            // The User-Agent names the module and its version.
            Assert.Equal($"NenAi/{UserAgent.Version} (PowerShell module)", Assert.Single(emu.State.UserAgents).Key);
            Assert.Matches(@"^\d+\.\d+\.\d+", UserAgent.Version);
        }

        [Theory]
        [InlineData("fake fault", "[internal_error]: fake fault. Retry after 2 s.")]
        [InlineData("Try again later.", "[internal_error]: Try again later. Retry after 2 s.")]
        public void AServersMessageWithoutAFullStopGetsOneBeforeWhatFollows(string serverMessage, string expectedEnd)
        {
            // Before: "[internal_error]: fake fault Retry after 2 s." (and the circuit's sentence ran on the same way).
            NenException ex = ApiErrorMapper.Map((HttpStatusCode)500, $"{{\"error\":\"internal_error\",\"message\":\"{serverMessage}\"}}", TimeSpan.FromSeconds(2), "Starting a run");
            Assert.EndsWith(expectedEnd, ex.Message);
            Assert.Equal("fake fault. 9 requests in a row failed.", Sentence.Join("fake fault", "9 requests in a row failed."));
        }

        [Fact]
        public async Task UnknownApiKeyIsUnauthorized()
        {
            await using var emu = await TestEmulator.StartAsync();
            var ex = await Assert.ThrowsAsync<NenException>(() => emu.Client(apiKey: "wrong-key", signed: false).StartRunAsync(Requests.Echo()));
            Assert.Equal(NenErrorIds.Unauthorized, ex.ErrorId);
            Assert.Equal(HttpStatusCode.Unauthorized, ex.StatusCode);
            Assert.Equal("unauthorized", ex.ServerError);
            Assert.Equal(NenErrorCategory.AuthenticationError, ex.Category);
            Assert.Empty(emu.State.Ledger);
        }

        [Fact]
        public async Task WrongSigningKeyIsInvalidSignature()
        {
            await using var emu = await TestEmulator.StartAsync();
            var ex = await Assert.ThrowsAsync<NenException>(() => emu.Client(signingKey: "not-the-key").StartRunAsync(Requests.Echo()));
            Assert.Equal(NenErrorIds.InvalidSignature, ex.ErrorId);
            Assert.Equal("invalid_signature", ex.ServerError);
        }

        [Fact]
        public async Task ClockSkewBeyondFiveMinutesIsInvalidTimestamp()
        {
            await using var emu = await TestEmulator.StartAsync();
            var skewed = emu.Client(clock: () => DateTimeOffset.UtcNow.AddMinutes(-6));
            var ex = await Assert.ThrowsAsync<NenException>(() => skewed.StartRunAsync(Requests.Echo()));
            Assert.Equal(NenErrorIds.InvalidTimestamp, ex.ErrorId);
            // Within the window it is fine.
            await emu.Client(clock: () => DateTimeOffset.UtcNow.AddMinutes(-4)).StartRunAsync(Requests.Echo());
        }

        [Fact]
        public async Task SignedGetIsVerifiedToo()
        {
            await using var emu = await TestEmulator.StartAsync();
            RunAccepted run = await emu.Client().StartRunAsync(Requests.Echo());
            var ex = await Assert.ThrowsAsync<NenException>(() => emu.Client(signingKey: "other").GetRunAsync(run.MessageId));
            Assert.Equal(NenErrorIds.InvalidSignature, ex.ErrorId);
        }

        [Fact]
        public async Task SecureParamsWithoutSigningAreRefusedByTheServer()
        {
            // The client refuses before sending (next test); a hand-made unsigned request shows the server side.
            await using var emu = await TestEmulator.StartAsync();
            using var http = new System.Net.Http.HttpClient();
            using var msg = new System.Net.Http.HttpRequestMessage(System.Net.Http.HttpMethod.Post, new Uri(emu.BaseUri, "runs"))
            {
                Content = new System.Net.Http.StringContent($"{{\"workflow_id\":\"{TestEmulator.SecureWorkflow}\",\"workflow_params\":{{\"USER\":\"u\"}},\"secure_workflow_params\":{{\"password\":\"12345678\"}}}}"),
            };
            msg.Headers.Add("x-api-key", TestEmulator.ApiKey);
            using var response = await http.SendAsync(msg);
            var ex = ApiErrorMapper.Map(response.StatusCode, await response.Content.ReadAsStringAsync(), null, "Starting the run");
            Assert.Equal(NenErrorIds.HmacRequired, ex.ErrorId);
            Assert.Equal("The secure_workflow_params field requires HMAC authentication.", ex.ServerMessage);
        }

        [Fact]
        public async Task SecureParamsWithoutASigningKeyFailBeforeAnythingIsSent()
        {
            await using var emu = await TestEmulator.StartAsync();
            var request = new RunRequest(TestEmulator.SecureWorkflow);
            request.SecureParameters.Add(new KeyValuePair<string, SecretValue>("password", TestEmulator.Secret("hunter2hunter2")));
            var ex = await Assert.ThrowsAsync<NenException>(() => emu.Client(signed: false).StartRunAsync(request));
            Assert.Equal(NenErrorIds.SigningKeyRequired, ex.ErrorId);
            Assert.Equal(0, emu.State.PostRuns);
        }

        [Fact]
        public async Task SignedSecureParamsAreAccepted()
        {
            await using var emu = await TestEmulator.StartAsync();
            var request = new RunRequest(TestEmulator.SecureWorkflow);
            request.Parameters.Add(new KeyValuePair<string, object?>("USER", "jane"));
            request.SecureParameters.Add(new KeyValuePair<string, SecretValue>("password", TestEmulator.Secret("hunter2hunter2")));
            await emu.Client().StartRunAsync(request);
            Assert.Equal(new[] { "password" }, emu.Server.State.Find(emu.State.Ledger[0].MessageId)!.SecureParamNames);
        }

        [Fact]
        public async Task UnknownWorkflowIsWorkflowNotFound()
        {
            await using var emu = await TestEmulator.StartAsync();
            var ex = await Assert.ThrowsAsync<NenException>(() => emu.Client().StartRunAsync(new RunRequest(Guid.NewGuid().ToString())));
            Assert.Equal(NenErrorIds.WorkflowNotFound, ex.ErrorId);
            Assert.Equal(NenErrorCategory.ObjectNotFound, ex.Category);
        }

        [Fact]
        public async Task UnknownRunIsRunNotFound()
        {
            await using var emu = await TestEmulator.StartAsync();
            var ex = await Assert.ThrowsAsync<NenException>(() => emu.Client().GetRunAsync(Guid.NewGuid().ToString()));
            Assert.Equal(NenErrorIds.RunNotFound, ex.ErrorId);
            Assert.Equal("run_not_found", ex.ServerError);
        }

        [Fact]
        public async Task AnotherKeysRunIsNotFound()
        {
            await using var emu = await TestEmulator.StartAsync();
            RunAccepted run = await emu.Client().StartRunAsync(Requests.Echo());
            var ex = await Assert.ThrowsAsync<NenException>(() => emu.Client(signed: false).GetRunAsync(run.MessageId));
            Assert.Equal(NenErrorIds.RunNotFound, ex.ErrorId);
        }

        [Fact]
        public async Task ParamsThatDoNotFitAreInvalidWorkflowParamsWithDetails()
        {
            await using var emu = await TestEmulator.StartAsync();
            var request = new RunRequest(TestEmulator.SecureWorkflow);
            request.Parameters.Add(new KeyValuePair<string, object?>("USER", 42));
            request.SecureParameters.Add(new KeyValuePair<string, SecretValue>("password", TestEmulator.Secret("short")));
            var ex = await Assert.ThrowsAsync<NenException>(() => emu.Client().StartRunAsync(request));
            Assert.Equal(NenErrorIds.InvalidWorkflowParams, ex.ErrorId);
            Assert.Equal(HttpStatusCode.UnprocessableEntity, ex.StatusCode);
            Assert.Contains(ex.Details, d => d.Key == "USER" && d.Value.Contains("string"));
            Assert.Contains(ex.Details, d => d.Key == "password" && d.Value.Contains("at least 8"));
            Assert.DoesNotContain("short", ex.Message);
        }

        [Fact]
        public async Task LaxTypesFromCsvAreAcceptedAndWrongTypesAreNot()
        {
            await using var emu = await TestEmulator.StartAsync();
            var ok = Requests.Echo();
            ok.Parameters.Add(new("COUNT", "42"));
            ok.Parameters.Add(new("FLAG", "yes"));
            await emu.Client().StartRunAsync(ok);
            var bad = Requests.Echo();
            bad.Parameters.Add(new("COUNT", "forty-two"));
            var ex = await Assert.ThrowsAsync<NenException>(() => emu.Client().StartRunAsync(bad));
            Assert.Contains(ex.Details, d => d.Key == "COUNT" && d.Value.Contains("integer"));
        }

        [Fact]
        public async Task OversizedBodyIsRequestTooLargeOnTheWire()
        {
            await using var emu = await TestEmulator.StartAsync(c => c.MaxBodyBytes = 2000);
            var ex = await Assert.ThrowsAsync<NenException>(() => emu.Client().StartRunAsync(Requests.Echo(new string('x', 5000))));
            Assert.Equal(NenErrorIds.RequestTooLarge, ex.ErrorId);
            Assert.Equal((HttpStatusCode)413, ex.StatusCode);
        }

        [Fact]
        public async Task BodyOverOneMebibyteIsRefusedBeforeSending()
        {
            await using var emu = await TestEmulator.StartAsync();
            var ex = await Assert.ThrowsAsync<NenException>(() => emu.Client().StartRunAsync(Requests.Echo(new string('x', 1024 * 1024 + 1))));
            Assert.Equal(NenErrorIds.RequestTooLarge, ex.ErrorId);
            Assert.Null(ex.StatusCode);
            Assert.Equal(0, emu.State.PostRuns);
        }

        [Theory]
        [InlineData("", NenErrorIds.InvalidWorkflowId)]
        [InlineData("not-a-guid", NenErrorIds.InvalidWorkflowId)]
        public async Task BadWorkflowIdsFailBeforeSending(string id, string errorId)
        {
            await using var emu = await TestEmulator.StartAsync();
            var ex = await Assert.ThrowsAnyAsync<NenException>(() => emu.Client().StartRunAsync(new RunRequest(id)));
            Assert.Equal(errorId, ex.ErrorId);
            Assert.Equal(0, emu.State.PostRuns);
        }

        [Fact]
        public async Task InvalidUtf16IsRefusedNamingTheField()
        {
            await using var emu = await TestEmulator.StartAsync();
            var ex = await Assert.ThrowsAsync<NenException>(() => emu.Client().StartRunAsync(Requests.Echo("bad \ud800 text")));
            Assert.Equal(NenErrorIds.InvalidParameterValue, ex.ErrorId);
            Assert.Contains("'NAME'", ex.Message);
        }

        [Fact]
        public async Task RateLimitAndOverloadSurfaceWhenRetriesRunOut()
        {
            // 429/503 are waited out for the retry budget's time (issue 25), not a count: a budget of 0 s waits for none.
            await using var emu = await TestEmulator.StartAsync();
            await emu.ScriptAsync(new ScriptedFault { Kind = "429", Route = "POST /runs", Count = 1, RetryAfterSeconds = 1 });
            var ex = await Assert.ThrowsAsync<NenException>(() => emu.Client(o => o.MaximumRetryDuration = TimeSpan.Zero).StartRunAsync(Requests.Echo()));
            Assert.Equal(NenErrorIds.RateLimited, ex.ErrorId);
            Assert.Equal(TimeSpan.FromSeconds(1), ex.RetryAfter);

            await emu.ScriptAsync(new ScriptedFault { Kind = "503", Route = "POST /runs", Count = 1 });
            ex = await Assert.ThrowsAsync<NenException>(() => emu.Client(o => o.MaximumRetryDuration = TimeSpan.Zero).StartRunAsync(Requests.Echo()));
            Assert.Equal(NenErrorIds.ServiceUnavailable, ex.ErrorId);
            Assert.Empty(emu.State.Ledger);
        }

        [Theory]
        [InlineData(400, "{\"error\":\"Invalid request\",\"message\":\"Missing required field: workflow_id\"}", NenErrorIds.InvalidRequest)]
        [InlineData(401, "{\"error\":\"unauthorized\"}", NenErrorIds.Unauthorized)]
        [InlineData(401, "{\"error\":\"invalid_signature\"}", NenErrorIds.InvalidSignature)]
        [InlineData(401, "{\"error\":\"invalid_timestamp\"}", NenErrorIds.InvalidTimestamp)]
        [InlineData(403, "{\"error\":\"hmac_required_for_secure_params\"}", NenErrorIds.HmacRequired)]
        [InlineData(404, "{\"error\":\"workflow_not_found\"}", NenErrorIds.WorkflowNotFound)]
        [InlineData(404, "{\"error\":\"run_not_found\"}", NenErrorIds.RunNotFound)]
        [InlineData(413, "", NenErrorIds.RequestTooLarge)]
        [InlineData(422, "{\"error\":\"invalid_workflow_params\",\"details\":[{\"field\":\"A\",\"problem\":\"p\"}]}", NenErrorIds.InvalidWorkflowParams)]
        [InlineData(429, "{}", NenErrorIds.RateLimited)]
        [InlineData(503, "<html>busy</html>", NenErrorIds.ServiceUnavailable)]
        [InlineData(502, "", NenErrorIds.ServerError)]
        [InlineData(418, "{\"unexpected\":[1,2]}", NenErrorIds.HttpError)]
        public void EveryTableRowMapsToItsErrorId(int status, string body, string errorId)
        {
            NenException ex = ApiErrorMapper.Map((HttpStatusCode)status, body, null, "Op");
            Assert.Equal(errorId, ex.ErrorId);
            Assert.Contains($"HTTP {status}", ex.Message);
        }
    }
}
