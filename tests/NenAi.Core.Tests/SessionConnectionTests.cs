using System;
using System.Collections.Generic;
using NenAi.Core.Configuration;
using NenAi.Core.Errors;
using NenAi.TestSupport;
using Xunit;

namespace NenAi.Core.Tests
{
    /// <summary>
    /// What Connect-NenService keeps for a session sits between a command's own parameters and the NEN_* variables,
    /// setting by setting, and a command only ever gets copies of its secrets.
    /// </summary>
    public class SessionConnectionTests
    {
        private static Func<string, string?> Env(params (string Name, string Value)[] vars)
        {
            var d = new Dictionary<string, string>();
            foreach (var (n, v) in vars) d[n] = v;
            return name => d.TryGetValue(name, out string? v) ? v : null;
        }

        private static SessionConnection Session(string? baseUrl = "https://session.example.test", string? apiKey = "session-key", string? signingKey = null, string? webhookSecret = null, bool allowInsecureHttp = false) =>
            new SessionConnection(baseUrl is null ? null : NenClientOptions.ValidateBaseUri(baseUrl, allowInsecureHttp),
                apiKey is null ? null : new SessionSecret(TestEmulator.Secret(apiKey), "-ApiKey"),
                signingKey is null ? null : new SessionSecret(TestEmulator.Secret(signingKey), "-SigningKeySecretName 'NenSig'"),
                webhookSecret is null ? null : new SessionSecret(TestEmulator.Secret(webhookSecret), "-WebhookSecret"),
                allowInsecureHttp, DateTimeOffset.Now);

        private static string Text(SecretValue? secret) => secret!.UseChars(c => new string(c));

        [Fact]
        public void TheSessionComesAfterParametersAndBeforeTheEnvironmentSettingBySetting()
        {
            var env = Env(("NEN_BASE_URL", "https://env.example.test"), ("NEN_API_KEY", "env-key"), ("NEN_SIGNING_KEY", "env-signing"), ("NEN_WEBHOOK_SECRET", "env-hook"));
            using SessionConnection session = Session(signingKey: null, webhookSecret: "session-hook");

            var fromSession = NenClientOptions.Resolve(environment: env, session: session);
            var explicitWins = NenClientOptions.Resolve("https://explicit.example.test", TestEmulator.Secret("explicit-key"), environment: env, session: session);

            Assert.Equal("https://session.example.test/", fromSession.BaseUri.ToString());
            Assert.Equal("session-key", Text(fromSession.ApiKey));
            Assert.Equal("env-signing", Text(fromSession.SigningKey)); // the session has none: the environment fills in
            Assert.Equal("session-hook", Text(fromSession.WebhookSecret));
            Assert.Equal("https://explicit.example.test/", explicitWins.BaseUri.ToString());
            Assert.Equal("explicit-key", Text(explicitWins.ApiKey));
        }

        [Fact]
        public void SourcesSayWhereEachSettingComesFrom()
        {
            using SessionConnection session = Session(baseUrl: null, signingKey: "s");

            ConnectionSources sources = ConnectionSources.Find(session: session, environment: Env(("NEN_WEBHOOK_SECRET", "h")));
            ConnectionSources nothing = ConnectionSources.Find(environment: Env());
            ConnectionSources given = ConnectionSources.Find("https://p.example.test", apiKeyGiven: true, session: session, environment: Env());

            Assert.Equal((SettingSource.Default, NenClientOptions.DefaultBaseUrl), (sources.BaseUrlSource, sources.BaseUrl));
            Assert.Equal(SettingSource.Session, sources.ApiKey);
            Assert.Equal(SettingSource.Session, sources.SigningKey);
            Assert.Equal(SettingSource.Environment, sources.WebhookSecret);
            Assert.Equal(SettingSource.NotSet, nothing.ApiKey);
            Assert.Equal((SettingSource.Parameter, "https://p.example.test"), (given.BaseUrlSource, given.BaseUrl));
            Assert.Equal(SettingSource.Parameter, given.ApiKey);
        }

        [Fact]
        public void ACommandGetsCopiesSoDisposingThemOrForgettingTheSessionLeavesTheOtherIntact()
        {
            SessionConnection session = Session();
            var first = NenClientOptions.Resolve(environment: Env(), session: session);
            first.ApiKey.Dispose(); // a command that disposes its copy when it ends

            var second = NenClientOptions.Resolve(environment: Env(), session: session);
            session.Dispose(); // Disconnect-NenService while the second command still runs

            Assert.Equal("session-key", Text(second.ApiKey));
            Assert.Throws<ObjectDisposedException>(() => Text(first.ApiKey));
            Assert.Throws<ObjectDisposedException>(() => session.ApiKey!.Copy());
        }

        [Fact]
        public void WithoutAnyKeyTheErrorSaysHowToGiveOne()
        {
            var ex = Assert.Throws<NenException>(() => NenClientOptions.Resolve(environment: Env(), session: Session(apiKey: null)));

            Assert.Equal(NenErrorIds.MissingApiKey, ex.ErrorId);
            Assert.Contains("Connect-NenService", ex.Message);
            Assert.Contains("NEN_API_KEY", ex.Message);
        }

        [Fact]
        public void InsecureHttpAllowedWhenConnectingIsAllowedForTheSessionsCommands()
        {
            using SessionConnection session = Session(baseUrl: "http://nen.internal.example", allowInsecureHttp: true);

            var options = NenClientOptions.Resolve(environment: Env(), session: session);
            var refused = Assert.Throws<NenException>(() => NenClientOptions.Resolve(environment: Env(("NEN_BASE_URL", "http://nen.internal.example")), session: Session(baseUrl: null)));

            Assert.Equal("http://nen.internal.example/", options.BaseUri.ToString());
            Assert.Equal(NenErrorIds.InsecureBaseUri, refused.ErrorId);
        }

        [Fact]
        public void NothingAboutASessionShowsASecret()
        {
            using SessionConnection session = Session(apiKey: "canary-session-5d1e", signingKey: "canary-session-sig");

            Assert.DoesNotContain("canary", session.ToString());
            Assert.DoesNotContain("canary", session.ApiKey!.ToString());
            Assert.Equal("-ApiKey", session.ApiKey.Origin);
        }
    }
}
