#Requires -Version 7.4
# The signed package, as build.ps1 -Task Test's signing check makes it (out/signing-check: the module signed by
# build.ps1's Package code with a throwaway self-signed code-signing certificate): every script file and the module's
# own DLLs carry a signature that osslsigncode verifies, Microsoft's DLLs keep Microsoft's, a changed file fails the
# same check, a timestamp server is asked when one is given, and the signed package installs by name and imports in a
# new pwsh (so PowerShell on Linux reads modules whose .psd1/.psm1 end in signature blocks). Where the check could not
# run (no osslsigncode 2.9+), every test here is skipped with the reason the build wrote.

BeforeAll {
    $script:root = (Resolve-Path (Join-Path $PSScriptRoot '../..')).ProviderPath
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-Module (Join-Path $script:root 'tools/EmulatorProcess.psm1') -Force
    Import-Module (Join-Path $script:root 'tools/ModuleSigning.psm1') -Force
    $script:check = Join-Path $script:root 'out/signing-check'
    $skipped = Join-Path $script:check 'SKIPPED.txt'
    $script:skipReason = if (Test-Path -LiteralPath $skipped) { "the signing check did not run: $((Get-Content -LiteralPath $skipped -Raw).Trim())" }
    elseif (-not (Test-Path -LiteralPath (Join-Path $script:check 'packages'))) { 'out/signing-check is missing: run ./build.ps1 -Task Test (its signing check makes it)' }
    elseif (-not (Get-Command osslsigncode -CommandType Application -ErrorAction Ignore)) { 'these checks read signatures with osslsigncode, which is not installed' }
    else { $null }
    $script:signed = Join-Path $script:check 'NenAi'
    $script:trusted = Join-Path $script:check 'throwaway.pem'
    $script:version = (Import-PowerShellDataFile -LiteralPath (Join-Path $script:root 'NenAi.psd1')).ModuleVersion

    # osslsigncode verify: its exit code, whether the signature and digest hold, and what it said.
    function Get-Verification {
        param([string] $Path, [string[]] $Extra = @())
        $said = @(& osslsigncode verify -in $Path @Extra 2>&1 | ForEach-Object { "$_" })
        $text = $said -join "`n"
        $current = if ($text -match '(?m)^Current message digest\s*:\s*([0-9A-F]+)\s*$') { $Matches[1] }
        $calculated = if ($text -match '(?m)^Calculated message digest\s*:\s*([0-9A-F]+)\s*$') { $Matches[1] }
        [pscustomobject]@{
            Exit     = $LASTEXITCODE
            Ok       = $LASTEXITCODE -eq 0 -and $text -match '(?m)^Signature verification: ok' -and $current -and $current -eq $calculated
            Intact   = [bool]($current -and $current -eq $calculated)
            Subject  = if ($text -match '(?m)^\s*Subject\s*:\s*(.+)$') { $Matches[1].Trim() }
            Text     = $text
        }
    }
}

Describe 'The signed package' {
    It 'signs every script file and the module''s own DLLs, and osslsigncode verifies each signature' {
        if ($script:skipReason) { Set-ItResult -Skipped -Because $script:skipReason; return }
        # Found here on its own, not from the build's list: every .psd1/.psm1/.ps1/.ps1xml and NenAi*.dll of both builds.
        $scripts = @(Get-ChildItem -LiteralPath $script:signed -Recurse -File | Where-Object Extension -In '.psd1', '.psm1', '.ps1', '.ps1xml')
        $own = @(Get-ChildItem -LiteralPath (Join-Path $script:signed 'bin') -Recurse -File -Include 'NenAi.dll', 'NenAi.Core.dll')
        $scripts.Name | Sort-Object | Should -Be @('NenAi.Format.ps1xml', 'NenAi.psd1', 'NenAi.psm1', 'NenAi.Requirements.ps1')
        $own.Count | Should -Be 4   # NenAi and NenAi.Core, net472 and net8.0

        foreach ($file in $scripts + $own) {
            $result = Get-Verification $file.FullName @('-CAfile', $script:trusted)
            $result.Ok | Should -BeTrue -Because "$($file.FullName): $($result.Text)"
            $result.Subject | Should -Match 'NenAi throwaway code signing'
        }
        foreach ($file in $scripts) {
            Get-Content -LiteralPath $file.FullName -Raw | Should -Match 'SIG # Begin signature block' -Because $file.Name
        }
    }

    It 'leaves Microsoft''s DLLs signed by Microsoft, intact (System.Text.Json and the other dependencies)' {
        if ($script:skipReason) { Set-ItResult -Skipped -Because $script:skipReason; return }
        $theirs = @(Get-ChildItem -LiteralPath (Join-Path $script:signed 'bin') -Recurse -File -Filter '*.dll' | Where-Object Name -NotIn 'NenAi.dll', 'NenAi.Core.dll')
        $theirs.Name | Should -Contain 'System.Text.Json.dll'
        foreach ($file in $theirs) {
            $result = Get-Verification $file.FullName
            $result.Intact | Should -BeTrue -Because "$($file.Name): $($result.Text)"
            $result.Subject | Should -Match 'O=Microsoft Corporation'
            # Byte for byte the file the build laid out: not re-signed.
            (Get-FileHash -LiteralPath $file.FullName).Hash | Should -Be (Get-FileHash -LiteralPath ($file.FullName.Replace($script:signed, (Join-Path $script:root 'out/NenAi')))).Hash
        }
    }

    It 'fails the same check for a script or a DLL changed after signing' {
        if ($script:skipReason) { Set-ItResult -Skipped -Because $script:skipReason; return }
        $psm1 = Join-Path $TestDrive 'NenAi.psm1'
        (Get-Content -LiteralPath (Join-Path $script:signed 'NenAi.psm1') -Raw) -replace 'Loads the cmdlet assembly', 'Loads the cmdlet Assembly' | Set-Content -LiteralPath $psm1 -NoNewline
        $dll = Join-Path $TestDrive 'NenAi.dll'
        $bytes = [System.IO.File]::ReadAllBytes((Join-Path $script:signed 'bin/net8.0/NenAi.dll'))
        $bytes[1024] = $bytes[1024] -bxor 0xFF
        [System.IO.File]::WriteAllBytes($dll, $bytes)

        (Get-Verification $psm1 @('-CAfile', $script:trusted)).Ok | Should -BeFalse
        (Get-Verification $dll @('-CAfile', $script:trusted)).Ok | Should -BeFalse
        # And an untrusted certificate is not taken for the throwaway one: without -CAfile the chain does not verify.
        (Get-Verification (Join-Path $script:signed 'NenAi.psd1')).Ok | Should -BeFalse
    }

    It 'puts the signed files, unchanged, in the .nupkg and the zip' {
        if ($script:skipReason) { Set-ItResult -Skipped -Because $script:skipReason; return }
        Add-Type -AssemblyName System.IO.Compression.FileSystem
        foreach ($package in @{ Path = (Join-Path $script:check "packages/NenAi.$($script:version).nupkg"); Prefix = '' }, @{ Path = (Join-Path $script:check 'NenAi.zip'); Prefix = 'NenAi/' }) {
            $zip = [System.IO.Compression.ZipFile]::OpenRead($package.Path)
            try {
                foreach ($name in 'NenAi.psm1', 'NenAi.psd1', 'bin/net472/NenAi.dll') {
                    $entry = $zip.Entries | Where-Object { ($_.FullName -replace '\\', '/') -eq "$($package.Prefix)$name" }
                    $entry | Should -Not -BeNullOrEmpty -Because "$($package.Path) should hold $name"
                    $stream = $entry.Open(); $copy = [System.IO.MemoryStream]::new()
                    try { $stream.CopyTo($copy) } finally { $stream.Dispose() }
                    $sha = [System.Security.Cryptography.SHA256]::HashData($copy.ToArray())
                    [Convert]::ToHexString($sha) | Should -Be (Get-FileHash -LiteralPath (Join-Path $script:signed $name)).Hash -Because "$name in $($package.Path)"
                }
            }
            finally { $zip.Dispose() }
        }
    }

    It 'installs by name and imports in a new pwsh, signature blocks and all, and runs a batch' {
        if ($script:skipReason) { Set-ItResult -Skipped -Because $script:skipReason; return }
        $emulator = Start-EmulatorProcess
        try {
            $realHome = [System.Environment]::GetFolderPath('UserProfile')
            $environment = @{
                HOME = (New-Item -ItemType Directory -Path (Join-Path $TestDrive 'home')).FullName
                NUGET_PACKAGES = if ($env:NUGET_PACKAGES) { $env:NUGET_PACKAGES } else { Join-Path $realHome '.nuget/packages' }
                DOTNET_CLI_HOME = $realHome
                PSModulePath = $null; XDG_DATA_HOME = $null; XDG_CONFIG_HOME = $null; XDG_CACHE_HOME = $null
                NEN_BASE_URL = $emulator.BaseUri; NEN_API_KEY = 'nen-demo-api-key'; NEN_SIGNING_KEY = 'nen-demo-signing-key'
            }
            $work = (New-Item -ItemType Directory -Path (Join-Path $TestDrive 'work')).FullName
            $script = Join-Path $work 'signed.ps1'
            Set-Content -LiteralPath $script -Value @"
`$ErrorActionPreference = 'Stop'
Register-PSResourceRepository -Name NenAiSigned -Uri '$(Join-Path $script:check 'packages')' -Trusted
Install-PSResource -Name NenAi -Repository NenAiSigned
Import-Module NenAi
'base ' + (Get-Module NenAi).ModuleBase
(Get-Command -Module NenAi).Name -join ','
[pscustomobject]@{ CUSTOMER_NAME = 'Ada Lovelace' } | Start-NenRun -WorkflowId '0f6a1f7e-9a55-4c55-8d7e-3b1b2a6f4c21' |
    Wait-NenRun -PollIntervalSec 1 | Get-NenRunResult -Destination ./results | ForEach-Object { 'saved ' + `$_.Name }
"@
            $run = Invoke-FreshPwsh -File $script -WorkingDirectory $work -Environment $environment
            $run.ExitCode | Should -Be 0 -Because (Remove-Ansi "$($run.Output)$($run.Errors)")
            $run.Errors | Should -BeNullOrEmpty
            $lines = $run.Output -split "`r?`n" | Where-Object { $_ }
            $base = ($lines | Where-Object { $_ -like 'base *' }).Substring(5)
            $base | Should -BeLike (Join-Path $environment.HOME '*')
            $lines | Where-Object { $_ -like '*Start-NenRun*' } | Should -Not -BeNullOrEmpty
            $lines | Should -Contain 'saved invoice.txt'
            # What was installed and imported is what was signed: each installed signature still verifies.
            foreach ($name in 'NenAi.psd1', 'NenAi.psm1', 'NenAi.Requirements.ps1', 'NenAi.Format.ps1xml', 'bin/net8.0/NenAi.dll', 'bin/net472/NenAi.Core.dll') {
                $result = Get-Verification (Join-Path $base $name) @('-CAfile', $script:trusted)
                $result.Ok | Should -BeTrue -Because "installed $name : $($result.Text)"
            }
        }
        finally { Stop-EmulatorProcess $emulator }
    }

    It 'asks a timestamp server when given one, and its timestamp verifies' {
        if ($script:skipReason) { Set-ItResult -Skipped -Because $script:skipReason; return }
        # A fake RFC 3161 authority of its own (openssl ts), and build.ps1's signing step with -TimestampServer.
        $tsaDir = Join-Path $TestDrive 'tsa'
        $psi = [System.Diagnostics.ProcessStartInfo]::new('python3')
        foreach ($a in (Join-Path $script:root 'tests/fakes/fake_tsa.py'), '--dir', $tsaDir) { $psi.ArgumentList.Add($a) }
        $psi.RedirectStandardOutput = $true
        $psi.UseShellExecute = $false
        $tsa = [System.Diagnostics.Process]::Start($psi)
        try {
            $first = $tsa.StandardOutput.ReadLineAsync()
            $first.Wait(30000) | Should -BeTrue
            $url = $first.Result -replace '^listening on ', ''
            $url | Should -Match '^http://127\.0\.0\.1:\d+/$'
            $module = Join-Path $TestDrive 'NenAi'
            Copy-Item -LiteralPath (Join-Path $script:root 'out/NenAi') -Destination $module -Recurse
            $certificate = New-ThrowawayCodeSigningCertificate -Folder (Join-Path $TestDrive 'cert')

            $signed = @(Invoke-ModuleSigning -ModuleFolder $module -CertificatePath $certificate.PfxPath -CertificatePassword $certificate.Password -TimestampServer $url)

            @(Get-Content -LiteralPath (Join-Path $tsaDir 'requests.log')).Count | Should -Be $signed.Count   # one timestamp per file signed
            foreach ($name in 'NenAi.psm1', 'bin/net472/NenAi.dll') {
                $result = Get-Verification (Join-Path $module $name) @('-CAfile', $certificate.PemPath, '-TSA-CAfile', (Join-Path $tsaDir 'tsa.pem'))
                $result.Ok | Should -BeTrue -Because $result.Text
                $result.Text | Should -Match 'Timestamp Server Signature verification: ok'
                $result.Text | Should -Match 'NenAi fake timestamp authority'
            }
        }
        finally {
            if (-not $tsa.HasExited) { $tsa.Kill(); $tsa.WaitForExit(5000) }
            $tsa.Dispose()
        }
    }
}

Describe 'The signing tool' {
    It 'takes osslsigncode 2.9 or later, whose -readpass - reads the PFX password from standard input, and says why not 2.8' {
        if (-not $IsLinux -and -not $IsMacOS) { Set-ItResult -Skipped -Because 'Windows signs with Set-AuthenticodeSignature'; return }
        # osslsigncode 2.8 (Ubuntu 24.04's) signs PowerShell scripts but has no "-" for -readpass (2.9 added it, NEWS.md),
        # so signing with it failed on every file, and the Test task with it. Before: 2.8 was taken.
        $bin = (New-Item -ItemType Directory -Path (Join-Path $TestDrive 'fake-bin')).FullName
        $fake = Join-Path $bin 'osslsigncode'
        $path = $env:PATH
        try {
            $env:PATH = $bin + [System.IO.Path]::PathSeparator + $path
            foreach ($case in @{ Said = 'osslsigncode 2.8, using:'; Taken = $false }, @{ Said = 'osslsigncode 2.9, using:'; Taken = $true }, @{ Said = 'osslsigncode 2.14, using:'; Taken = $true }) {
                Set-Content -LiteralPath $fake -Value "#!/bin/sh`necho '$($case.Said)'`necho '	OpenSSL 3.0.13 30 Jan 2024'"
                & chmod +x $fake
                $tool = Get-SigningTool
                $tool.Path | Should -Be $fake
                if ($case.Taken) { $tool.Problem | Should -BeNullOrEmpty -Because $case.Said }
                else { $tool.Problem | Should -Match '2\.9' -Because $case.Said }
            }
        }
        finally { $env:PATH = $path }
    }
}
