// Throws while its module is evaluated, before buildRootObject exists.
console.log('global throw');
throw Error('thrown from global scope');
