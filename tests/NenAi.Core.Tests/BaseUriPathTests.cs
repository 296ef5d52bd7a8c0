using System;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using NenAi.Core.Configuration;
using NenAi.Core.Errors;
using NenAi.Core.Http;
using NenAi.Core.Models;
using NenAi.Core.Tests.Infrastructure;
using NenAi.TestSupport;
using Xunit;

namespace NenAi.Core.Tests
{
    /// <summary>
    /// A base URL with a path is allowed (a gateway in front of the API may add one, spec section 11), but a path the API
    /// does not have gets answers that are not the API's: such a 404 says the base URL's path is the likely cause.
    /// </summary>
    public class BaseUriPathTests
    {
        private static NenApiClient ClientFor(string baseUrl) =>
            new NenApiClient(NenClientOptions.Resolve(baseUrl, TestEmulator.Secret(TestEmulator.ApiKey), TestEmulator.Secret(TestEmulator.SigningKey), environment: _ => null));

        [Fact]
        public async Task ABaseUrlEndingInV1GetsAnErrorNamingThePathNotABare404()
        {
            await using var emu = await TestEmulator.StartAsync();
            NenApiClient client = ClientFor(new Uri(emu.BaseUri, "v1").ToString());

            var start = await Assert.ThrowsAsync<NenException>(() => client.StartRunAsync(Requests.Echo()));
            var get = await Assert.ThrowsAsync<NenException>(() => client.GetRunAsync(Guid.NewGuid().ToString()));

            foreach (NenException ex in new[] { start, get })
            {
                Assert.Equal(NenErrorIds.EndpointNotFound, ex.ErrorId);
                Assert.Equal(NenErrorCategory.ObjectNotFound, ex.Category);
                Assert.Contains("HTTP 404", ex.Message);
                Assert.Contains("the path '/v1'", ex.Message);
                Assert.Contains($"the usual base URL is {emu.BaseUri.GetLeftPart(UriPartial.Authority)}", ex.Message);
                Assert.Contains("NEN_BASE_URL", ex.Message);
            }
            Assert.Empty(emu.State.Ledger);
        }

        [Fact]
        public async Task TheApisOwn404sStayWhatTheyAre()
        {
            await using var emu = await TestEmulator.StartAsync();
            NenApiClient client = ClientFor(emu.BaseUri.ToString());

            var unknownRun = await Assert.ThrowsAsync<NenException>(() => client.GetRunAsync(Guid.NewGuid().ToString()));
            var request = new RunRequest(Guid.NewGuid().ToString());
            var unknownWorkflow = await Assert.ThrowsAsync<NenException>(() => client.StartRunAsync(request));

            Assert.Equal(NenErrorIds.RunNotFound, unknownRun.ErrorId);
            Assert.Equal(NenErrorIds.WorkflowNotFound, unknownWorkflow.ErrorId);
            Assert.DoesNotContain("base URL", unknownRun.Message);
        }

        [Fact]
        public async Task AGatewayPrefixThatReallyServesTheApiWorksAndItsRunNotFoundIsNotBlamedOnThePath()
        {
            // A gateway that serves the API under /nen: its answers are the API's own.
            var (app, address) = await LoopbackApp.StartAsync(a =>
            {
                a.MapPost("/nen/runs", () => Results.Json(new { message = "Job accepted for processing.", messageId = "5f0c4f7e-2d3b-4c1a-9a8b-7e6d5c4b3a21" }, statusCode: 202));
                a.MapGet("/nen/runs/{id}", (string id) => Results.Json(new { error = "run_not_found", message = $"No run {id}." }, statusCode: 404));
            });
            await using (app)
            {
                NenApiClient client = ClientFor(new Uri(address, "nen").ToString());

                RunAccepted run = await client.StartRunAsync(Requests.Echo());
                var ex = await Assert.ThrowsAsync<NenException>(() => client.GetRunAsync(Guid.NewGuid().ToString()));

                Assert.Equal("5f0c4f7e-2d3b-4c1a-9a8b-7e6d5c4b3a21", run.MessageId);
                Assert.Equal(NenErrorIds.RunNotFound, ex.ErrorId);
                Assert.DoesNotContain("likely cause", ex.Message);
            }
        }

        [Fact]
        public async Task AProxysHtml404AtTheRootSaysTheAnswerIsNotTheApis()
        {
            var (app, address) = await LoopbackApp.StartAsync(a =>
                a.MapFallback(() => Results.Content("<html><body><h1>404 Not Found</h1>nginx</body></html>", "text/html", statusCode: 404)));
            await using (app)
            {
                var ex = await Assert.ThrowsAsync<NenException>(() => ClientFor(address.ToString()).GetRunAsync(Guid.NewGuid().ToString()));

                Assert.Equal(NenErrorIds.EndpointNotFound, ex.ErrorId);
                Assert.Contains("not the Nen API's", ex.Message);
                Assert.Contains($"Is {address} the Nen API?", ex.Message);
                Assert.Contains("nginx", ex.Message); // what answered, in a short excerpt
            }
        }

        [Theory]
        [InlineData("https://api.getnen.ai/v1", "the path '/v1' of the base URL https://api.getnen.ai/v1/")]
        [InlineData("https://gw.example.test/a/b/", "the path '/a/b' of the base URL https://gw.example.test/a/b/")]
        public void TheMessageNamesThePathOfTheBaseUrlAsValidated(string baseUrl, string expected)
        {
            Uri baseUri = NenClientOptions.ValidateBaseUri(baseUrl, allowInsecureHttp: false);

            NenException ex = ApiErrorMapper.Map(System.Net.HttpStatusCode.NotFound, string.Empty, null, "Getting run x", baseUri: baseUri);

            Assert.Equal(NenErrorIds.EndpointNotFound, ex.ErrorId);
            Assert.Contains(expected, ex.Message);
        }
    }
}
