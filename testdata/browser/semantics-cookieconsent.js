// vanilla-cookieconsent v3 (npm) as a site configures it, for the pages
// semantics-gpc.html and semantics-mixed.html: the canonical categories,
// and the tool's own script-tag management (manageScriptTags, on by
// default) to revive what `mode defer` labels.
CookieConsent.run({
  // The tool hides itself from automated browsers (navigator.webdriver),
  // and the browser suite is one.
  hideFromBots: false,
  categories: {
    necessary: { enabled: true, readOnly: true },
    analytics: {},
    advertising: {}
  },
  language: {
    default: 'en',
    translations: {
      en: {
        consentModal: {
          title: 'We use cookies',
          description: 'Choose what this shop may use beyond what it needs to work.',
          acceptAllBtn: 'Accept all',
          acceptNecessaryBtn: 'Reject all',
          showPreferencesBtn: 'Manage preferences'
        },
        preferencesModal: {
          title: 'Cookie preferences',
          acceptAllBtn: 'Accept all',
          acceptNecessaryBtn: 'Reject all',
          savePreferencesBtn: 'Save preferences',
          closeIconLabel: 'Close',
          sections: [
            { title: 'Strictly necessary', description: 'Payments and security.', linkedCategory: 'necessary' },
            { title: 'Performance and analytics', description: 'Google Analytics.', linkedCategory: 'analytics' },
            { title: 'Targeting or advertising', description: 'Meta.', linkedCategory: 'advertising' }
          ]
        }
      }
    }
  }
});
