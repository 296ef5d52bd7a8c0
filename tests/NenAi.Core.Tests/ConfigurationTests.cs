using System;
using System.Collections.Generic;
using NenAi.TestSupport;
using NenAi.Core.Configuration;
using NenAi.Core.Errors;
using NenAi.Core.Tests.Infrastructure;
using Xunit;

namespace NenAi.Core.Tests
{
    public class ConfigurationTests
    {
        private static Func<string, string?> Env(params (string Name, string Value)[] vars)
        {
            var d = new Dictionary<string, string>();
            foreach (var (n, v) in vars) d[n] = v;
            return name => d.TryGetValue(name, out string? v) ? v : null;
        }

        [Fact]
        public void ExplicitValuesWinOverEnvironment()
        {
            var env = Env(("NEN_BASE_URL", "https://env.example.test"), ("NEN_API_KEY", "env-key"), ("NEN_SIGNING_KEY", "env-signing"));
            var options = NenClientOptions.Resolve("https://explicit.example.test", TestEmulator.Secret("explicit-key"), environment: env);
            Assert.Equal("https://explicit.example.test/", options.BaseUri.ToString());
            Assert.Equal("explicit-key", options.ApiKey.UseChars(c => new string(c)));
            Assert.Equal("env-signing", options.SigningKey!.UseChars(c => new string(c)));
        }

        [Fact]
        public void EnvironmentFillsWhatIsNotGiven()
        {
            var env = Env(("NEN_BASE_URL", "https://env.example.test/prefix"), ("NEN_API_KEY", "env-key"), ("NEN_WEBHOOK_SECRET", "env-hook"));
            var options = NenClientOptions.Resolve(environment: env);
            Assert.Equal("https://env.example.test/prefix/", options.BaseUri.ToString());
            Assert.Equal("env-key", options.ApiKey.UseChars(c => new string(c)));
            Assert.Null(options.SigningKey);
            Assert.Equal("env-hook", options.WebhookSecret!.UseChars(c => new string(c)));
        }

        [Fact]
        public void DefaultBaseUrlIsTheRealService()
        {
            var options = NenClientOptions.Resolve(apiKey: TestEmulator.Secret("k"), environment: Env());
            Assert.Equal("https://api.getnen.ai/", options.BaseUri.ToString());
        }

        [Fact]
        public void MissingApiKeyIsAConfigurationError()
        {
            var ex = Assert.Throws<NenException>(() => NenClientOptions.Resolve(environment: Env(("NEN_API_KEY", "  "))));
            Assert.Equal(NenErrorIds.MissingApiKey, ex.ErrorId);
            Assert.Contains("NEN_API_KEY", ex.Message);
        }

        [Theory]
        [InlineData("http://api.example.test")]
        [InlineData("http://10.1.2.3:8080")]
        public void PlainHttpToANonLoopbackHostIsRefused(string url)
        {
            var ex = Assert.Throws<NenException>(() => NenClientOptions.Resolve(url, TestEmulator.Secret("k"), environment: Env()));
            Assert.Equal(NenErrorIds.InsecureBaseUri, ex.ErrorId);
            Assert.Equal(NenErrorCategory.SecurityError, ex.Category);
        }

        [Theory]
        [InlineData("http://127.0.0.1:5080")]
        [InlineData("http://localhost:5080")]
        [InlineData("http://[::1]:5080")]
        public void PlainHttpToLoopbackIsAllowed(string url)
        {
            Assert.Equal("http", NenClientOptions.Resolve(url, TestEmulator.Secret("k"), environment: Env()).BaseUri.Scheme);
        }

        [Fact]
        public void PlainHttpElsewhereNeedsExplicitPermission()
        {
            var options = NenClientOptions.Resolve("http://api.example.test", TestEmulator.Secret("k"), allowInsecureHttp: true, environment: Env());
            Assert.True(options.AllowInsecureHttp);
        }

        [Theory]
        [InlineData("ftp://api.example.test")]
        [InlineData("not a url")]
        [InlineData("https://user:pw@api.example.test")]
        [InlineData("https://api.example.test/?x=1")]
        public void MalformedBaseUrlsAreRefused(string url)
        {
            var ex = Assert.Throws<NenException>(() => NenClientOptions.Resolve(url, TestEmulator.Secret("k"), environment: Env()));
            Assert.Equal(NenErrorIds.InvalidBaseUri, ex.ErrorId);
        }

        [Fact]
        public void OptionsNeverPrintTheirSecrets()
        {
            var options = NenClientOptions.Resolve("https://a.example.test", TestEmulator.Secret("canary-api-key-123"), TestEmulator.Secret("canary-signing-456"), environment: Env());
            Assert.DoesNotContain("canary", options.ToString());
            Assert.Equal("***", options.ApiKey.ToString());
        }
    }
}
