// A vat whose module throws as it is evaluated.
throw Error('the module itself throws');
