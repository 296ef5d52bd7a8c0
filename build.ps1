#Requires -Version 5.1
<#
.SYNOPSIS
    Builds, tests, documents, packages and demonstrates the NenAi module.
.DESCRIPTION
    On a machine with only the .NET 10 SDK, run it with the PowerShell the repository pins
    (.config/dotnet-tools.json):

        dotnet tool exec powershell ./build.ps1 -Task Demo    # build, start the bundled emulator, run the demo batch
        dotnet tool exec powershell ./build.ps1 -Task Test    # every test: xunit (core and hosted engine) and Pester

    Any PowerShell 7.4+ (or Windows PowerShell 5.1 for Build/Package) runs it as ./build.ps1 too.
.EXAMPLE
    ./build.ps1 -Task Build            # lays out out/NenAi (both builds, help, format views) and out/emulator
.EXAMPLE
    ./build.ps1 -Task Package          # out/packages/NenAi.<version>.nupkg (Install-PSResource) and out/NenAi.<version>.zip
.EXAMPLE
    ./build.ps1 -Task Package -CertificatePath .\codesign.pfx -CertificatePassword (Read-Host -AsSecureString) -TimestampServer http://timestamp.digicert.com
    # the same, with every script file and the module's own DLLs Authenticode-signed (osslsigncode 2.9+ off Windows)
.EXAMPLE
    ./build.ps1 -Task Package -CertificateThumbprint 0123456789ABCDEF0123456789ABCDEF01234567   # Windows: a certificate of Cert:\CurrentUser\My or Cert:\LocalMachine\My
#>
[CmdletBinding()]
param(
    [ValidateSet('Build', 'Test', 'Docs', 'Package', 'Demo')]
    [string[]] $Task = 'Build',

    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Release',

    # Package: sign with this code-signing certificate (a .pfx with its private key) ...
    [string] $CertificatePath,
    # ... whose password this is (none for a .pfx without one).
    [securestring] $CertificatePassword,
    # Package, on Windows: sign with this certificate of Cert:\CurrentUser\My or Cert:\LocalMachine\My instead.
    [string] $CertificateThumbprint,
    # Package: an RFC 3161 timestamp server, so the signatures outlive the certificate (http://timestamp.digicert.com).
    [string] $TimestampServer
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
$root = $PSScriptRoot
$outRoot = Join-Path $root 'out'
$moduleOut = Join-Path $outRoot 'NenAi'
$emulatorOut = Join-Path $outRoot 'emulator'
$packagesOut = Join-Path $outRoot 'packages'
$testResults = Join-Path $outRoot 'test-results'
$signingCheck = Join-Path $outRoot 'signing-check'
Import-Module (Join-Path $root 'tools/ModuleSigning.psm1') -Force

function Invoke-Native {
    param([string] $File, [string[]] $Arguments)
    Write-Host "> $File $($Arguments -join ' ')"
    & $File @Arguments
    if ($LASTEXITCODE -ne 0) { throw "$File exited with code $LASTEXITCODE." }
}

function Invoke-BuildTask {
    foreach ($project in 'src/NenAi/NenAi.csproj', 'src/NenAi.HelpGen/NenAi.HelpGen.csproj', 'src/NenAi.Emulator/NenAi.Emulator.csproj') {
        Invoke-Native dotnet @('build', (Join-Path $root $project), '-c', $Configuration, '--nologo', '-v:q', '-clp:NoSummary')
    }
    if (Test-Path -LiteralPath $moduleOut) { Remove-Item -LiteralPath $moduleOut -Recurse -Force }
    # The same layout the hosted-engine tests import (src/NenAi/NenAi.ModuleLayout.targets): manifest, loader,
    # format views, bin/net472 and bin/net8.0, and the help NenAi.HelpGen writes (the one generator, so every
    # machine ships the same MAML) beside the manifest and beside each cmdlet assembly.
    Invoke-Native dotnet @('msbuild', (Join-Path $root 'src/NenAi/NenAi.csproj'), '-t:LayOutNenAiModule', '-nologo', '-v:m',
        "-p:Configuration=$Configuration", "-p:NenAiModuleDir=$moduleOut/", "-p:NenAiHelpGen=$(Get-HelpGenPath)")
    # Import-Module ./NenAi.psd1 from the repository root finds its help here.
    Copy-Item -LiteralPath (Join-Path $moduleOut 'en-US') -Destination $root -Recurse -Force
    # The emulator runs from here (dotnet out/emulator/NenAi.Emulator.dll), so trying the module never rebuilds it.
    if (Test-Path -LiteralPath $emulatorOut) { Remove-Item -LiteralPath $emulatorOut -Recurse -Force }
    Copy-Item -LiteralPath (Join-Path $root "src/NenAi.Emulator/bin/$Configuration/net10.0") -Destination $emulatorOut -Recurse
    Write-Host "Module laid out in $moduleOut (Import-Module $(Join-Path $moduleOut 'NenAi.psd1')); emulator in $emulatorOut."
}

function Get-HelpGenPath { Join-Path $root "src/NenAi.HelpGen/bin/$Configuration/net10.0/NenAi.HelpGen.dll" }

function Invoke-DocsTask {
    # Help comes from docs/en-US through NenAi.HelpGen only; platyPS, where installed, is not used, so the help a
    # package ships does not depend on the machine that built it.
    if (-not (Test-Path -LiteralPath (Get-HelpGenPath))) { Invoke-Native dotnet @('build', (Join-Path $root 'src/NenAi.HelpGen/NenAi.HelpGen.csproj'), '-c', $Configuration, '--nologo', '-v:q') }
    $helpOut = Join-Path $moduleOut 'en-US'
    Invoke-Native dotnet @('exec', (Get-HelpGenPath), (Join-Path $root 'docs/en-US'), $helpOut)
    foreach ($tfm in 'net472', 'net8.0') {
        $bin = Join-Path $moduleOut "bin/$tfm"
        if (Test-Path -LiteralPath $bin) { Copy-Item -LiteralPath $helpOut -Destination $bin -Recurse -Force }
    }
    Copy-Item -LiteralPath $helpOut -Destination $root -Recurse -Force
}

<#
    The PowerShell to start a fresh process with: this one (a dotnet tool runs as 'dotnet <PSHOME>/pwsh.dll'), or
    from Windows PowerShell, the repository's pinned PowerShell 7 tool.
#>
function Get-PwshCommand {
    if ($PSVersionTable.PSEdition -eq 'Core') {
        $exe = [System.Diagnostics.Process]::GetCurrentProcess().MainModule.FileName
        if ([System.IO.Path]::GetFileNameWithoutExtension($exe) -eq 'dotnet') { return @($exe, (Join-Path $PSHOME 'pwsh.dll')) }
        return @($exe)
    }
    return @('dotnet', 'tool', 'exec', 'powershell')
}

function Get-PesterModulePath {
    $project = Join-Path $root 'tests/pester/Pester.Restore.csproj'
    Invoke-Native dotnet @('restore', $project, '--nologo', '-v:q')
    $version = ([xml](Get-Content -LiteralPath $project -Raw)).Project.PropertyGroup.NenAiPesterVersion
    $packages = (& dotnet nuget locals global-packages --list) -replace '^global-packages:\s*', ''
    $manifest = Join-Path $packages.Trim() "pester/$version/tools/Pester.psd1"
    if (-not (Test-Path -LiteralPath $manifest)) { throw "Pester $version was restored, but $manifest is missing." }
    $manifest
}

function Invoke-TestTask {
    Invoke-BuildTask
    Invoke-PackageTask -AlreadyBuilt
    Invoke-SigningCheck
    if (Test-Path -LiteralPath $testResults) { Remove-Item -LiteralPath $testResults -Recurse -Force }
    $null = New-Item -ItemType Directory -Path $testResults
    Get-ChildItem -Path (Join-Path $root 'tests/*/TestResults/results.trx') -ErrorAction SilentlyContinue | Remove-Item -Force
    $failures = [System.Collections.Generic.List[string]]::new()

    # 1. xunit: the protocol core, and the cmdlets in a hosted PowerShell engine (a hung test fails the run).
    & dotnet test (Join-Path $root 'NenAi.sln') -c $Configuration --nologo --blame-hang-timeout 5m `
        --logger 'console;verbosity=minimal' --logger 'trx;LogFileName=results.trx'
    if ($LASTEXITCODE -ne 0) { $failures.Add("dotnet test exited with code $LASTEXITCODE") }

    # 2. Pester, in a fresh pwsh: none of this script's preferences ($ErrorActionPreference = 'Stop', strict mode)
    #    reach the suite, which runs as a user's session would.
    $pwsh = @(Get-PwshCommand)
    $arguments = @($pwsh | Select-Object -Skip 1) + @('-NoProfile', '-NonInteractive', '-File', (Join-Path $root 'tests/pester/Invoke-PesterSuite.ps1'),
        '-PesterModule', (Get-PesterModulePath), '-ResultPath', (Join-Path $testResults 'pester.xml'))
    Write-Host "> $($pwsh[0]) $($arguments -join ' ')"
    & $pwsh[0] @arguments
    if ($LASTEXITCODE -ne 0) { $failures.Add("the Pester suite exited with code $LASTEXITCODE") }

    Write-Host (Get-TestSummary)
    if (Test-Path -LiteralPath (Join-Path $signingCheck 'SKIPPED.txt')) { Write-Warning "The signing check did not run: $(Get-Content -LiteralPath (Join-Path $signingCheck 'SKIPPED.txt') -Raw)" }
    if ($failures.Count -gt 0) { throw "Tests failed: $($failures -join '; ')." }
}

<# One line from the result files: xunit (core, hosted engine) and Pester counts. #>
function Get-TestSummary {
    $parts = @(foreach ($trx in Get-ChildItem -Path (Join-Path $root 'tests/*/TestResults/results.trx') -ErrorAction SilentlyContinue) {
        [xml] $doc = Get-Content -LiteralPath $trx.FullName -Raw
        $counters = $doc.TestRun.ResultSummary.Counters
        '{0}: {1} passed, {2} failed' -f $trx.Directory.Parent.Name, $counters.passed, $counters.failed
    })
    $pesterXml = Join-Path $testResults 'pester.xml'
    if (Test-Path -LiteralPath $pesterXml) {
        [xml] $doc = Get-Content -LiteralPath $pesterXml -Raw
        $results = $doc.'test-results'
        $parts += 'Pester: {0} passed, {1} failed' -f ([int]$results.total - [int]$results.failures - [int]$results.errors - [int]$results.'not-run' - [int]$results.skipped), ([int]$results.failures + [int]$results.errors)
    }
    $skipped = Join-Path $signingCheck 'SKIPPED.txt'
    $parts += if (Test-Path -LiteralPath $skipped) { "signing check: NOT RUN ($((Get-Content -LiteralPath $skipped -Raw).Trim()))" } else { 'signing check: ran (Signing.Tests)' }
    'Test summary: ' + ($parts -join '; ')
}

<#
    The signing check of the Test task: a copy of the module signed with a throwaway self-signed certificate made here,
    packaged as Package packages (out/signing-check/packages), for tests/pester/Signing.Tests.ps1 to verify every
    signature and install and import. Where no signing tool is (osslsigncode 2.9+ off Windows), it says so in
    out/signing-check/SKIPPED.txt, which the Pester file and the summary line report.
#>
function Invoke-SigningCheck {
    if (Test-Path -LiteralPath $signingCheck) { Remove-Item -LiteralPath $signingCheck -Recurse -Force }
    $null = New-Item -ItemType Directory -Path $signingCheck
    $tool = Get-SigningTool
    if ($tool.Problem) {
        Set-Content -LiteralPath (Join-Path $signingCheck 'SKIPPED.txt') -Value $tool.Problem
        Write-Warning "Signing check SKIPPED: $($tool.Problem)."
        return
    }
    $certificate = New-ThrowawayCodeSigningCertificate -Folder $signingCheck
    $copy = Join-Path $signingCheck 'NenAi'
    Copy-Item -LiteralPath $moduleOut -Destination $copy -Recurse
    Write-Host "Signing check: signing a copy of the module with $($tool.Name) and a throwaway certificate ($($certificate.Subject))."
    Invoke-PackageTask -AlreadyBuilt -ModuleFolder $copy -Destination (Join-Path $signingCheck 'packages') -ZipPath (Join-Path $signingCheck 'NenAi.zip') `
        -Signing @{ CertificatePath = $certificate.PfxPath; CertificatePassword = $certificate.Password; TrustedCertificate = $certificate.PemPath }
}

function Invoke-PackageTask {
    param(
        [switch] $AlreadyBuilt,
        [string] $ModuleFolder = $moduleOut,
        [string] $Destination = $packagesOut,
        [string] $ZipPath,
        # CertificatePath/CertificatePassword or CertificateThumbprint, TimestampServer; TrustedCertificate (a PEM) for
        # the check after signing when the certificate's root is not one the machine trusts (the throwaway one).
        [hashtable] $Signing = (Get-SigningParameter)
    )
    if (-not $AlreadyBuilt) { Invoke-BuildTask }
    $version = (Import-PowerShellDataFile -LiteralPath (Join-Path $root 'NenAi.psd1')).ModuleVersion
    if (-not $ZipPath) { $ZipPath = Join-Path $outRoot "NenAi.$version.zip" }
    if ($Signing) {
        $sign = @{} + $Signing
        $trusted = $sign['TrustedCertificate']
        $sign.Remove('TrustedCertificate')
        $signed = @(Invoke-ModuleSigning -ModuleFolder $ModuleFolder @sign)
        # Each signature checked before anything is packaged: a package with one broken signature is never written.
        $by = Get-SigningCertificate -CertificatePath $sign['CertificatePath'] -CertificatePassword $sign['CertificatePassword'] -CertificateThumbprint $sign['CertificateThumbprint']
        $checked = @(Test-ModuleSignature -ModuleFolder $ModuleFolder -TrustedCertificate $trusted -SignedBy $by)
        $broken = @($checked | Where-Object { -not $_.Valid })
        if ($broken) { throw "Signed, but these signatures do not hold: $(($broken | ForEach-Object { "$($_.Path) ($($_.Detail))" }) -join '; ')" }
        Write-Host "Signed $($signed.Count) file(s) (scripts and the module's own DLLs); $(@($checked | Where-Object Kind -EQ 'ThirdPartyDll').Count) Microsoft DLL(s) keep Microsoft's signature."
    }
    $null = New-Item -ItemType Directory -Path $Destination -Force
    Get-ChildItem -LiteralPath $Destination -Filter 'NenAi.*.nupkg' | Remove-Item -Force
    # A package PSResourceGet installs by name: publish into a folder repository registered only for this step.
    $repository = "NenAiBuild-$([guid]::NewGuid().ToString('N').Substring(0, 8))"
    Register-PSResourceRepository -Name $repository -Uri $Destination -Trusted
    try {
        Publish-PSResource -Path $ModuleFolder -Repository $repository
    }
    finally {
        Unregister-PSResourceRepository -Name $repository
    }
    # A zip for copying by hand: its top folder is NenAi, so it unpacks into any $env:PSModulePath folder as a module.
    if (Test-Path -LiteralPath $ZipPath) { Remove-Item -LiteralPath $ZipPath -Force }
    Compress-Archive -LiteralPath $ModuleFolder -DestinationPath $ZipPath
    Write-Host "Packaged $(Join-Path $Destination "NenAi.$version.nupkg") and $ZipPath."
    Write-Host "Install by name: Register-PSResourceRepository -Name NenAiLocal -Uri '$Destination' -Trusted; Install-PSResource NenAi -Repository NenAiLocal"
}

<# The signing the command line asks for (-CertificatePath or -CertificateThumbprint, -TimestampServer), or $null. #>
function Get-SigningParameter {
    if (-not $CertificatePath -and -not $CertificateThumbprint) {
        if ($CertificatePassword -or $TimestampServer) { throw '-CertificatePassword and -TimestampServer go with -CertificatePath or -CertificateThumbprint.' }
        return $null
    }
    $signing = @{}
    if ($CertificatePath) { $signing.CertificatePath = (Resolve-Path -LiteralPath $CertificatePath).ProviderPath }
    if ($CertificatePassword) { $signing.CertificatePassword = $CertificatePassword }
    if ($CertificateThumbprint) { $signing.CertificateThumbprint = $CertificateThumbprint }
    if ($TimestampServer) { $signing.TimestampServer = $TimestampServer }
    $signing
}

function Invoke-DemoTask {
    Invoke-BuildTask
    Import-Module (Join-Path $root 'tools/EmulatorProcess.psm1') -Force
    $emulator = Start-EmulatorProcess
    try {
        # Demo credentials of the local emulator (emulator.sample.json); never real ones.
        $env:NEN_BASE_URL = $emulator.BaseUri
        $env:NEN_API_KEY = 'nen-demo-api-key'
        $env:NEN_SIGNING_KEY = 'nen-demo-signing-key'
        Import-Module (Join-Path $moduleOut 'NenAi.psd1') -Force
        $out = Join-Path $outRoot 'demo-results'
        # A fresh emulator knows no earlier runs, so the demo starts a fresh batch (and journal) each time.
        $journal = Join-Path $outRoot 'demo.journal.jsonl'
        Remove-Item -LiteralPath $journal -ErrorAction Ignore
        $demo = Import-Csv (Join-Path $root 'docs/examples/jobs.csv') |
            & (Join-Path $root 'tools/DemoBatch.ps1') -Destination $out -JournalPath $journal
        $demo.Files | Format-Table -AutoSize | Out-Host
        Write-Host "Results are in ${out}: $($demo.Files.Count) file(s) saved. $($demo.Errors.Count) run(s) reported an error (shown above; the CSV's FAIL row fails on purpose)."
    }
    finally {
        Stop-EmulatorProcess $emulator
        Remove-Item Env:NEN_BASE_URL, Env:NEN_API_KEY, Env:NEN_SIGNING_KEY -ErrorAction SilentlyContinue
    }
}

foreach ($t in $Task) {
    switch ($t) {
        'Build' { Invoke-BuildTask }
        'Test' { Invoke-TestTask }
        'Docs' { Invoke-DocsTask }
        'Package' { Invoke-PackageTask }
        'Demo' { Invoke-DemoTask }
    }
}
